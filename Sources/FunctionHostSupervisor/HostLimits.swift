/// Host-wide limits of the supervisor, fixed at start-up (`fnhost serve` flags).
public struct HostLimits: Sendable {
    /// Concurrent executions across all functions (`--max-concurrency`, Lambda's default 1000).
    public var accountLimit: Int
    /// How long an on-demand worker may stay idle before it is stopped (`--idle-timeout`).
    public var idleTimeout: Duration

    public init(accountLimit: Int = 1000, idleTimeout: Duration = .seconds(600)) {
        self.accountLimit = accountLimit
        self.idleTimeout = idleTimeout
    }
}
