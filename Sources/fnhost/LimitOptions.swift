import ArgumentParser
import FunctionHost
import FunctionHostSupervisor
import Metrics
import Prometheus

/// `fnhost serve` flags for the concurrency ledger, the warm pool and memory enforcement.
struct LimitOptions: ParsableArguments {
    @Option(help: "Concurrent executions across all functions (the account limit).")
    var maxConcurrency: Int = 1000

    @Option(help: ArgumentHelp("Stop on-demand workers idle for this long.", valueName: "SECONDS"))
    var idleTimeout: Double = 600

    @Option(help: ArgumentHelp(
        "How MemorySize is enforced: cgroup-v2, cgroup-v1 or rss (default: the strongest available).",
        valueName: "KIND"))
    var memoryEnforcement: String?

    func validate() throws {
        guard maxConcurrency >= 1 else { throw ValidationError("--max-concurrency must be at least 1") }
        guard idleTimeout > 0 else { throw ValidationError("--idle-timeout must be more than 0 seconds") }
        if let memoryEnforcement, MemoryEnforcement.Kind(rawValue: memoryEnforcement) == nil {
            throw ValidationError("--memory-enforcement must be one of cgroup-v2, cgroup-v1, rss")
        }
    }

    /// Puts the flags into `configuration`, and bootstraps the process-wide metrics system on the
    /// registry `GET /metrics` renders (once per process: only the CLI does this).
    func apply(to configuration: inout HostConfiguration) {
        configuration.limits = HostLimits(
            accountLimit: maxConcurrency, idleTimeout: .milliseconds(Int64(idleTimeout * 1000)))
        configuration.memoryEnforcement = memoryEnforcement.flatMap(MemoryEnforcement.Kind.init(rawValue:))
        MetricsSystem.bootstrap(configuration.metricsFactory)
    }
}
