import Foundation

/// Real time: the ``HostClock`` of a host that was not started with `--virtual-clock`.
public struct WallClock: HostClock {
    public init() {}

    public func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    public func sleep(until deadline: Int64) async throws {
        let remaining = deadline - now()
        guard remaining > 0 else { return }
        if deadline == .max {
            // Until cancelled: Task.sleep's own limit is far beyond any host's life.
            while true { try await Task.sleep(for: .seconds(86_400)) }
        }
        try await Task.sleep(for: .milliseconds(remaining))
    }
}
