import ArgumentParser
import FunctionHost
import FunctionHostInvokeAPI
import FunctionHostSupervisor
import Metrics
import NIOCore
import Prometheus

/// `fnhost serve` flags for the concurrency ledger, the warm pool, the serve port's clients and memory enforcement.
struct LimitOptions: ParsableArguments {
    @Option(help: "Concurrent executions across all functions (the account limit).")
    var maxConcurrency: Int = 1000

    @Option(help: ArgumentHelp("Stop on-demand workers idle for this long.", valueName: "SECONDS"))
    var idleTimeout: Double = 600

    @Option(help: ArgumentHelp(
        "Cold starts of one function in flight at once; more invocations wait for the first worker that is free or the next start (default: 4 per CPU).",
        valueName: "N"))
    var maxStarting: Int?

    @Option(help: ArgumentHelp(
        "Close serve-port connections idle (or sending headers) this long; a request body must arrive within twice this.",
        valueName: "SECONDS"))
    var clientTimeout: Double = 30

    @Option(help: "Open serve-port connections beyond this get 503 and are closed.")
    var maxConnections: Int = 4096

    @Option(help: ArgumentHelp("Rotate each function's log file past this size.", valueName: "MB"))
    var logFileSize: Int = 10

    @Option(help: "Log files kept per function, the current one included.")
    var logFiles: Int = 3

    @Option(help: ArgumentHelp(
        "How MemorySize is enforced: cgroup-v2, cgroup-v1 or rss (default: the strongest available).",
        valueName: "KIND"))
    var memoryEnforcement: String?

    func validate() throws {
        guard maxConcurrency >= 1 else { throw ValidationError("--max-concurrency must be at least 1") }
        guard idleTimeout > 0 else { throw ValidationError("--idle-timeout must be more than 0 seconds") }
        guard clientTimeout > 0 else { throw ValidationError("--client-timeout must be more than 0 seconds") }
        guard logFileSize >= 1, logFiles >= 1 else { throw ValidationError("--log-file-size and --log-files must be at least 1") }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1") }
        if let maxStarting, maxStarting < 1 { throw ValidationError("--max-starting must be at least 1") }
        if let memoryEnforcement, MemoryEnforcement.Kind(rawValue: memoryEnforcement) == nil {
            throw ValidationError("--memory-enforcement must be one of cgroup-v2, cgroup-v1, rss")
        }
    }

    /// Puts the flags into `configuration`, and bootstraps the process-wide metrics system on the
    /// registry `GET /metrics` renders (once per process: only the CLI does this).
    func apply(to configuration: inout HostConfiguration) {
        configuration.limits = HostLimits(
            accountLimit: maxConcurrency, idleTimeout: .milliseconds(Int64(idleTimeout * 1000)),
            logFileSize: logFileSize * 1024 * 1024, logFiles: logFiles)
        if let maxStarting { configuration.limits.startLimit = maxStarting }
        configuration.servePort.clientTimeout = .milliseconds(Int64(clientTimeout * 1000))
        configuration.servePort.maximumConnections = maxConnections
        configuration.memoryEnforcement = memoryEnforcement.flatMap(MemoryEnforcement.Kind.init(rawValue:))
        MetricsSystem.bootstrap(configuration.metricsFactory)
    }
}
