/// A snapshot of a running phase for the live view and the periodic status line.
public struct LoadProgress: Sendable {
    /// Seconds since the phase started.
    public var elapsed: Double
    public var finished: Int
    public var inFlight: Int
    public var completed: Int
    public var errors: Int
    public var throttles: Int
    public var transportErrors: Int
    /// Requests that ended in the last whole second, and their p50/p99 (ms).
    public var lastSecondCount: Int
    public var lastSecond: (p50: Double, p99: Double)?
}
