import ArgumentParser
import Foundation
import FunctionHost
import FunctionHostCore
import Logging
import Synchronization

/// `fnhost serve`: the Invoke API on a port until SIGINT/SIGTERM.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the Lambda Invoke API for the template's functions.",
        discussion: "Ready once GET /2015-03-31/functions/ answers 200. Function logs go to stdout, prefixed with the function's logical id, and to STATE_DIR/logs/FUNCTION.log.")

    @OptionGroup var options: TemplateOptions

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port: Int = 3001

    @Flag(inversion: .prefixedNo, help: "Reload a function when its code or layers change, and the functions when the template does (inotify).")
    var watch = true

    @Option(help: ArgumentHelp("Run this function's workers under its runtime's debugger (with --debug-port).", valueName: "FUNCTION"))
    var debug: String?

    @Option(help: ArgumentHelp("Port the debugger listens on (node --inspect-brk, debugpy) on 127.0.0.1.", valueName: "PORT"))
    var debugPort: Int?

    @OptionGroup var limits: LimitOptions

    func validate() throws {
        guard (debug == nil) == (debugPort == nil) else { throw ValidationError("--debug and --debug-port go together") }
        if let debugPort, !(1...65535).contains(debugPort) { throw ValidationError("--debug-port must be a port number") }
    }

    @OptionGroup var asyncOptions: AsyncOptions

    @OptionGroup var leaseOptions: LeaseOptions

    @Flag(help: ArgumentHelp(
        "Start the host clock at the real time but move it only with `fnhost clock advance` (schedules, retries, visibility timeouts, windows, idle eviction; not a running function's timeout)."))
    var virtualClock = false

    func run() async throws {
        let logger = FnHost.bootstrap()
        let host = makeHost()
        for warning in host.warnings { logger.warning("\(warning)") }
        let readyLine = ReadyLine(address: self.host, functions: host.catalog.entries.count)
        do {
            try await host.serve(logger: logger) { port in readyLine.print(port: port) }
        } catch {
            guard readyLine.printed else { Self.exitWithStartupFailure("cannot listen on \(self.host):\(port): \(error)") }
            throw error
        }
    }

    /// The host the flags describe; a template or start-up error ends the process (exit 2).
    private func makeHost() -> FunctionHost {
        do {
            var configuration = try options.hostConfiguration(host: self.host, port: port, console: 1)
            configuration.watch = watch
            if let debug, let debugPort { configuration.debug = .init(function: debug, port: debugPort) }
            limits.apply(to: &configuration)
            asyncOptions.apply(to: &configuration)
            leaseOptions.apply(to: &configuration)
            if virtualClock { configuration.clock = VirtualClock(startingAt: WallClock().now()) }
            return try FunctionHost(configuration: configuration)
        } catch {
            Self.exitWithStartupFailure("\(error)")
        }
    }
}

/// The line `serve` prints each time it listens: once at start-up, again after a hot reload of
/// the template (which may change the functions). A class, so the ready callback and the error
/// path share one flag.
private final class ReadyLine: Sendable {
    private let address: String
    private let functions: Int
    private let printedOnce = Atomic<Bool>(false)

    init(address: String, functions: Int) {
        self.address = address
        self.functions = functions
    }

    var printed: Bool { printedOnce.load(ordering: .relaxed) }

    func print(port: Int) {
        let line =
            printedOnce.exchange(true, ordering: .relaxed)
            ? "fnhost listening on http://\(address):\(port) again, with the reloaded template\n"
            : "fnhost listening on http://\(address):\(port) (\(functions) functions)\n"
        FileHandle.standardOutput.write(Data(line.utf8))
    }
}
