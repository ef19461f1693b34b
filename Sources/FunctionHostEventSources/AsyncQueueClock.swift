import Foundation

/// The async queue's time: when events were accepted, how old they are, and retry delays.
///
/// Times are seconds since the epoch on this clock, so persisted times stay meaningful after a
/// restart. Inject a faster clock to test hours of Lambda timing in seconds.
public protocol AsyncQueueClock: Sendable {
    /// Seconds since the epoch, on this clock.
    func now() -> Double
    /// Sleeps for `seconds` of this clock; throws `CancellationError` when cancelled.
    func sleep(seconds: Double) async throws
}

/// Wall-clock time, optionally sped up: with `scale` 50 a 60 s retry delay takes 1.2 s and an
/// event ages 50 s per real second (`fnhost serve --async-clock-scale`, a test hook).
///
/// Times persisted under one scale are read under the next one as they are: change the scale
/// only on a fresh state directory.
public struct ScaledWallClock: AsyncQueueClock {
    public var scale: Double

    public init(scale: Double = 1) {
        precondition(scale > 0, "the clock scale must be positive")
        self.scale = scale
    }

    public func now() -> Double { Date().timeIntervalSince1970 * scale }

    public func sleep(seconds: Double) async throws {
        guard seconds > 0 else { return }
        try await Task.sleep(for: .milliseconds(Int64((seconds / scale * 1000).rounded(.up))))
    }
}
