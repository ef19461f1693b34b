import Foundation

/// Renders the live view's status line (on a terminal, redrawn at most 10 times a second) and the
/// plain line printed every 5 seconds when stdout is not a terminal or `--json` is given.
public struct LiveView: Sendable {
    /// Redraws per second at most.
    public static let refreshInterval: Duration = .milliseconds(100)
    /// Seconds between plain status lines.
    public static let plainInterval = 5.0

    public let stop: LoadStop
    public let width: Int

    public init(stop: LoadStop, width: Int = 30) {
        self.stop = stop
        self.width = width
    }

    /// Fraction done and, when it can be told, seconds left.
    func progress(_ snapshot: LoadProgress) -> (fraction: Double, eta: Double?) {
        switch stop {
        case .requests(let total):
            let fraction = total == 0 ? 1 : min(1, Double(snapshot.finished) / Double(total))
            let eta = snapshot.finished > 0 ? snapshot.elapsed / Double(snapshot.finished) * Double(max(0, total - snapshot.finished)) : nil
            return (fraction, eta)
        case .duration(let seconds):
            return (seconds == 0 ? 1 : min(1, snapshot.elapsed / seconds), max(0, seconds - snapshot.elapsed))
        }
    }

    private func doneText(_ snapshot: LoadProgress) -> String {
        switch stop {
        case .requests(let total): "\(snapshot.finished)/\(total)"
        case .duration(let seconds): "\(snapshot.finished) done, \(Int(min(snapshot.elapsed, seconds)))/\(Int(seconds)) s"
        }
    }

    private func tail(_ snapshot: LoadProgress) -> String {
        let latency = snapshot.lastSecond.map { String(format: "p50 %.1f ms  p99 %.1f ms", $0.p50, $0.p99) } ?? "p50 -  p99 -"
        return "\(snapshot.lastSecondCount) req/s  \(latency)  in flight \(snapshot.inFlight)  errors \(snapshot.errors + snapshot.transportErrors)  throttles \(snapshot.throttles)"
    }

    /// The terminal line: a progress bar with done/total and ETA, then the last second's figures.
    public func line(_ snapshot: LoadProgress) -> String {
        let (fraction, eta) = progress(snapshot)
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let etaText = eta.map { "ETA \(Self.clock($0))" } ?? "ETA -"
        return "\(bar) \(doneText(snapshot))  \(etaText)  │ \(tail(snapshot))"
    }

    /// The plain status line for logs.
    public func plainLine(_ snapshot: LoadProgress) -> String {
        let (fraction, _) = progress(snapshot)
        return "fnhost load: \(String(format: "%3.0f", fraction * 100))% \(doneText(snapshot)), \(tail(snapshot))"
    }

    static func clock(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        return whole >= 60 ? "\(whole / 60)m\(String(format: "%02d", whole % 60))s" : "\(whole)s"
    }
}
