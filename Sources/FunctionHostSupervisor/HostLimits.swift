import Foundation

/// Host-wide limits of the supervisor, fixed at start-up (`fnhost serve` flags).
public struct HostLimits: Sendable {
    /// Concurrent executions across all functions (`--max-concurrency`, Lambda's default 1000).
    public var accountLimit: Int
    /// How long an on-demand worker may stay idle before it is stopped (`--idle-timeout`).
    public var idleTimeout: Duration
    /// Cold starts of one function in flight at once (`--max-starting`); more invocations wait in
    /// line for the first worker that is free or the next start.
    public var startLimit: Int

    /// Each function's `FUNCTION.log` is rotated past this many bytes (`--log-file-size`, MB)...
    public var logFileSize: Int
    /// ...keeping this many files in all: `FUNCTION.log`, `FUNCTION.log.1`, ... (`--log-files`).
    public var logFiles: Int

    /// Four cold starts per CPU: a sandboxed start is CPU work, and on 2 CPUs the starts per second
    /// stop rising at 4 to 16 in flight (`bench/launch_knee.py`).
    public static var defaultStartLimit: Int { 4 * max(1, ProcessInfo.processInfo.activeProcessorCount) }

    public init(
        accountLimit: Int = 1000, idleTimeout: Duration = .seconds(600), logFileSize: Int = 10 * 1024 * 1024,
        logFiles: Int = 3, startLimit: Int = HostLimits.defaultStartLimit
    ) {
        self.accountLimit = accountLimit
        self.idleTimeout = idleTimeout
        self.startLimit = startLimit
        self.logFileSize = logFileSize
        self.logFiles = logFiles
    }
}
