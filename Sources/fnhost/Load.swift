import ArgumentParser
import AsyncHTTPClient
import Foundation
import FunctionHost
import FunctionHostCore
import FunctionHostLoad
import Glibc
import Logging
import NIOCore
import Synchronization

/// `fnhost load`: a concurrency load test of one function, against a running endpoint or a host
/// started here from a template.
struct Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load-test a function: latency percentiles, cold starts, throttles and errors.",
        discussion: """
            Against --endpoint (a running fnhost, LocalStack or AWS: requests are SigV4-signed when AWS credentials are set) \
            or a host started here from --template. Latencies count from each request's intended start (no coordinated \
            omission). Exits 0 when the run completed, 1 when a --fail-on condition broke, 2 on a usage error \
            (an unknown function among them).
            """)

    @Argument(help: "The function's name, logical id or ARN.")
    var function: String

    @Option(help: "A running Lambda-compatible endpoint, e.g. http://127.0.0.1:3001 or https://lambda.eu-west-1.amazonaws.com.")
    var endpoint: String?

    @Option(name: .shortAndLong, help: "Start a host from this SAM template for the run (on a free port).")
    var template: String?

    @Option(help: "Closed loop: this many clients, each sending when its last request answered (default 10).")
    var concurrency: Int?

    @Option(help: "Open loop: this many arrivals per second, whether or not earlier ones answered.")
    var rate: Double?

    @Option(help: "Stop after this many requests (default 1000).")
    var requests: Int?

    @Option(help: ArgumentHelp("Stop after this long, e.g. 30s or 2m.", valueName: "DURATION"))
    var duration: String?

    @Option(help: ArgumentHelp("Raise the rate or concurrency linearly over this long, e.g. 10s.", valueName: "DURATION"))
    var ramp: String?

    @Option(help: ArgumentHelp("The event JSON sent with every request.", valueName: "FILE"))
    var event: String?

    @Option(help: ArgumentHelp("Events, one JSON document per line, cycled.", valueName: "FILE.jsonl"))
    var events: String?

    @Option(help: "RequestResponse or Event.")
    var invocationType: String = "RequestResponse"

    @Option(help: "Requests sent first and left out of the figures.")
    var warmup: Int = 0

    @Flag(help: "Print exactly one JSON object on stdout (no live view).")
    var json = false

    @Option(help: ArgumentHelp("Write a self-contained HTML report here.", valueName: "FILE.html"))
    var report: String?

    @Option(help: ArgumentHelp("Put a previous run (its --json output) beside this one in the report.", valueName: "OLD.json"))
    var compare: String?

    @Option(help: ArgumentHelp("Exit 1 when a condition breaks, e.g. 'p99<200ms,errors<1%'.", valueName: "CONDITIONS"))
    var failOn: String?

    @Option(help: "Open loop: at most this many connections; arrivals beyond wait for one (and the wait counts).")
    var connections: Int = 1024

    @Option(help: "Event loop threads of the generator (default: one per CPU).")
    var threads: Int = System.coreCount

    @Option(help: ArgumentHelp("Give up a request after this long.", valueName: "DURATION"))
    var timeout: String = "900s"

    @Flag(help: "Do not ask for the log tail (cold starts then come from the host's /metrics, when it has one).")
    var noLogTail = false

    @Option(help: "Region for SigV4 signing (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's, us-east-1).")
    var region: String?

    /// With --template: `--parameter`, `--parameter-overrides`, `--env-vars`, `--stack-name`, as `serve` takes them.
    @OptionGroup var overrides: TemplateOverrideOptions

    @Option(help: "With --template: directory for logs and state.")
    var stateDir: String = ".fnhost"

    @OptionGroup var limits: LimitOptions

    /// Usage errors exit with status 2 (as the issue's exit-status contract says), not ArgumentParser's 64.
    func validate() {
        do {
            try checkUsage()
        } catch {
            Self.exitWithStartupFailure("\(error)")
        }
    }

    private func checkUsage() throws {
        guard (endpoint == nil) != (template == nil) else {
            throw ValidationError("give exactly one of --endpoint URL or --template PATH")
        }
        guard concurrency == nil || rate == nil else { throw ValidationError("give --concurrency or --rate, not both") }
        if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
        if let rate, !(rate > 0 && rate.isFinite) { throw ValidationError("--rate must be more than 0") }
        guard requests == nil || duration == nil else { throw ValidationError("give --requests or --duration, not both") }
        if let requests, requests < 1 { throw ValidationError("--requests must be at least 1") }
        for (flag, value) in [("--duration", duration), ("--ramp", ramp), ("--timeout", Optional(timeout))] {
            if let value, DurationText.seconds(value) == nil { throw ValidationError("\(flag) takes a duration such as 30s, got \(value)") }
        }
        guard event == nil || events == nil else { throw ValidationError("give --event or --events, not both") }
        guard LoadTarget.InvocationType(rawValue: invocationType) != nil else {
            throw ValidationError("--invocation-type must be RequestResponse or Event")
        }
        guard warmup >= 0 else { throw ValidationError("--warmup must be 0 or more") }
        guard connections >= 1, threads >= 1 else { throw ValidationError("--connections and --threads must be at least 1") }
        if let failOn {
            do { _ = try FailThreshold.parseList(failOn) } catch { throw ValidationError("\(error)") }
        }
        if compare != nil && report == nil { throw ValidationError("--compare needs --report") }
    }

    var mode: LoadMode { rate.map(LoadMode.rate) ?? .concurrency(concurrency ?? 10) }
    var stop: LoadStop { duration.flatMap(DurationText.seconds).map { .duration(seconds: $0) } ?? .requests(requests ?? 1000) }

    func run() async throws {
        let logger = FnHost.bootstrap(level: .warning)
        let thresholds = try failOn.map(FailThreshold.parseList) ?? []
        let baseline: LoadSummary?
        let bodies: [[UInt8]]
        do {
            baseline = try compare.map(LoadSummary.read(path:))
            bodies = try readEvents()
        } catch {
            Self.exitWithStartupFailure("\(error)")
        }
        let summary: LoadSummary
        if let endpoint {
            summary = await runLoad(endpoint: endpoint, bodies: bodies)
        } else {
            summary = await withLocalHost(logger: logger) { endpoint in await runLoad(endpoint: endpoint, bodies: bodies) }
        }
        if json {
            FileHandle.standardOutput.write(Data((summary.jsonText() + "\n").utf8))
        } else {
            FileHandle.standardOutput.write(Data(SummaryText.render(summary).utf8))
        }
        if let report {
            do {
                try Data(LoadReport(summary: summary, baseline: baseline).html().utf8).write(to: URL(fileURLWithPath: report))
            } catch {
                Self.exitWithStartupFailure("cannot write \(report): \(error)")
            }
        }
        let broken = thresholds.filter { !$0.holds(for: summary) }
        if !broken.isEmpty {
            let detail = broken.map { threshold in
                "\(threshold) (was \(threshold.value(in: summary).map { String(format: "%g", $0) } ?? "not measured"))"
            }
            FileHandle.standardError.write(Data("fnhost load: --fail-on broken: \(detail.joined(separator: ", "))\n".utf8))
            throw ExitCode(1)
        }
    }

    /// The events to send: `--event`, each line of `--events`, or `{}`.
    private func readEvents() throws -> [[UInt8]] {
        if let event {
            guard let data = FileManager.default.contents(atPath: event) else { throw LoadError(.usage, "cannot read --event \(event)") }
            return [Array(data)]
        }
        if let events {
            guard let data = FileManager.default.contents(atPath: events) else { throw LoadError(.usage, "cannot read --events \(events)") }
            let lines = data.split(separator: UInt8(ascii: "\n")).map(Array.init).filter { line in
                !line.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\t") }
            }
            guard !lines.isEmpty else { throw LoadError(.usage, "--events \(events) has no events") }
            return lines
        }
        return [Array("{}".utf8)]
    }

    /// Starts a host from `--template` on a free port, runs `body` against it, stops it.
    private func withLocalHost(logger: Logger, _ body: @escaping @Sendable (String) async -> LoadSummary) async -> LoadSummary {
        guard let template else { Self.exitWithStartupFailure("no --template") }
        let host: FunctionHost
        do {
            var configuration = HostConfiguration(
                templatePath: template, host: "127.0.0.1", port: 0, stateDirectory: stateDir,
                account: AccountContext(accountID: "123456789012", region: region ?? "us-east-1"),
                parameterOverrides: [:], consoleDescriptor: -1)
            try overrides.apply(to: &configuration)
            limits.apply(to: &configuration)
            host = try FunctionHost(configuration: configuration)
        } catch {
            Self.exitWithStartupFailure("\(error)")
        }
        for warning in host.warnings { logger.warning("\(warning)") }
        let (ready, readyContinuation) = AsyncStream.makeStream(of: Int.self)
        return await withTaskGroup(of: LoadSummary?.self) { group in
            group.addTask {
                do {
                    // No shutdown signals: Ctrl-C belongs to the load run, which stops the host itself.
                    try await host.serve(logger: logger, shutdownSignals: []) { port in readyContinuation.yield(port) }
                } catch {
                    FileHandle.standardError.write(Data("fnhost: the host stopped: \(error)\n".utf8))
                }
                readyContinuation.finish()
                return nil
            }
            var iterator = ready.makeAsyncIterator()
            guard let port = await iterator.next() else { Self.exitWithStartupFailure("the host did not start") }
            let summary = await body("http://127.0.0.1:\(port)")
            group.cancelAll()
            return summary
        }
    }

    /// The whole run against `endpoint`: pre-flight, warm-up, measured phase, summary.
    private func runLoad(endpoint: String, bodies: [[UInt8]]) async -> LoadSummary {
        let environment = ProcessInfo.processInfo.environment
        let signer = AWSCredentials.resolve(environment: environment).map {
            SigV4Signer(credentials: $0, region: AWSCredentials.region(flag: region, environment: environment), service: "lambda")
        }
        let target: LoadTarget
        do {
            target = try LoadTarget(
                endpoint: endpoint, function: function,
                invocationType: LoadTarget.InvocationType(rawValue: invocationType) ?? .requestResponse,
                tailLogs: !noLogTail, signer: signer, timeout: DurationText.seconds(timeout) ?? 900, events: bodies)
        } catch {
            Self.exitWithStartupFailure("\(error)")
        }
        let engine: LoadEngine
        do {
            engine = try LoadEngine(target: target, threads: threads)
        } catch {
            Self.exitWithStartupFailure("\(error)")
        }
        do {
            try await engine.preflight()
        } catch {
            await engine.shutdown()
            Self.exitWithStartupFailure("\(error)")
        }
        let interrupts = InterruptHandler(engine: engine)
        let metricsBefore = noLogTail ? await HostMetrics.coldStarts(endpoint: endpoint, function: function) : nil
        if warmup > 0 {
            await engine.run(mode: mode, stop: .requests(warmup), maxConnections: connections, recording: false)
        }
        let view = LiveView(stop: stop)
        let terminal = !json && isatty(STDOUT_FILENO) == 1
        let duration = await withTaskGroup(of: Double?.self) { group in
            group.addTask {
                await engine.run(
                    mode: mode, stop: stop, ramp: ramp.flatMap(DurationText.seconds) ?? 0, maxConnections: connections, recording: !engine.interrupted)
            }
            group.addTask { await Self.showProgress(engine: engine, view: view, terminal: terminal); return nil }
            let duration = await group.next() ?? 0
            group.cancelAll()
            return duration ?? 0
        }
        if terminal { FileHandle.standardOutput.write(Data("\r\u{1B}[2K".utf8)) }
        interrupts.cancel()
        var coldStartsFromHost: Int?? = nil
        if noLogTail {
            let after = await HostMetrics.coldStarts(endpoint: endpoint, function: function)
            coldStartsFromHost = .some(metricsBefore.flatMap { before in after.map { $0 - before } })
        }
        let summary = engine.recorder.summary(
            function: function, endpoint: endpoint, mode: mode, duration: duration, coldStartsFromHost: coldStartsFromHost,
            interrupted: engine.interrupted, warnings: engine.generatorWarnings(mode: mode, maxConnections: connections))
        await engine.shutdown()
        return summary
    }

    /// Redraws the live view (at most 10 times a second) on a terminal; otherwise a plain line on stderr every 5 s.
    private static func showProgress(engine: LoadEngine, view: LiveView, terminal: Bool) async {
        var lastPlain = 0.0
        while !Task.isCancelled {
            try? await Task.sleep(for: LiveView.refreshInterval)
            let snapshot = engine.progress()
            if terminal {
                FileHandle.standardOutput.write(Data("\r\u{1B}[2K\(view.line(snapshot))".utf8))
            } else if snapshot.elapsed - lastPlain >= LiveView.plainInterval {
                lastPlain = snapshot.elapsed
                FileHandle.standardError.write(Data((view.plainLine(snapshot) + "\n").utf8))
            }
        }
    }
}
