import ArgumentParser
import FunctionHost

/// `fnhost serve` flags for asynchronous (`Event`) invocations.
struct AsyncOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Delay before the first retry of a failed Event invocation; the second waits twice as long (Lambda: 60).",
        valueName: "SECONDS"))
    var asyncRetryDelay: Double = 60

    /// A test hook: runs the async queue's clock this many times faster, so that Lambda's
    /// minimum MaximumEventAgeInSeconds (60) and its retry delays pass in a fraction of a second.
    /// Use it only on a fresh state directory (persisted times are read under the new scale).
    @Option(help: .hidden)
    var asyncClockScale: Double = 1

    func validate() throws {
        guard asyncRetryDelay >= 0 else { throw ValidationError("--async-retry-delay must be 0 or more seconds") }
        guard asyncClockScale > 0 else { throw ValidationError("--async-clock-scale must be more than 0") }
    }

    func apply(to configuration: inout HostConfiguration) {
        configuration.asyncRetryDelay = asyncRetryDelay
        configuration.asyncClockScale = asyncClockScale
    }
}
