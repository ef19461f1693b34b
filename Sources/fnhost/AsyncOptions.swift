import ArgumentParser
import FunctionHost

/// `fnhost serve` flags for asynchronous (`Event`) invocations.
struct AsyncOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Delay before the first retry of a failed Event invocation; the second waits twice as long (Lambda: 60).",
        valueName: "SECONDS"))
    var asyncRetryDelay: Double = 60

    func validate() throws {
        guard asyncRetryDelay >= 0 else { throw ValidationError("--async-retry-delay must be 0 or more seconds") }
    }

    func apply(to configuration: inout HostConfiguration) {
        configuration.asyncRetryDelay = asyncRetryDelay
    }
}
