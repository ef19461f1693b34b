import Foundation

/// The engine's notion of now, in epoch milliseconds: wall time in production, a value a test
/// moves by hand otherwise. Visibility timeouts, delays, retention and dedup windows all read it.
public struct QueueClock: Sendable {
    public var now: @Sendable () -> Int64

    public init(now: @escaping @Sendable () -> Int64) { self.now = now }

    public static let system = QueueClock { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}
