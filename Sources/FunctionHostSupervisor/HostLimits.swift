/// Host-wide limits of the supervisor, fixed at start-up (`fnhost serve` flags).
public struct HostLimits: Sendable {
    /// Concurrent executions across all functions (`--max-concurrency`, Lambda's default 1000).
    public var accountLimit: Int
    /// How long an on-demand worker may stay idle before it is stopped (`--idle-timeout`).
    public var idleTimeout: Duration

    /// Each function's `FUNCTION.log` is rotated past this many bytes (`--log-file-size`, MB)...
    public var logFileSize: Int
    /// ...keeping this many files in all: `FUNCTION.log`, `FUNCTION.log.1`, ... (`--log-files`).
    public var logFiles: Int

    public init(
        accountLimit: Int = 1000, idleTimeout: Duration = .seconds(600), logFileSize: Int = 10 * 1024 * 1024,
        logFiles: Int = 3
    ) {
        self.accountLimit = accountLimit
        self.idleTimeout = idleTimeout
        self.logFileSize = logFileSize
        self.logFiles = logFiles
    }
}
