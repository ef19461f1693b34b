import Foundation

/// One `--fail-on` condition, such as `p99<200ms` or `errors<1%`: a figure of the summary, a
/// comparison and a limit. The run fails (exit 1) when a condition does not hold.
public struct FailThreshold: Sendable, Equatable, CustomStringConvertible {
    /// The figures a condition can name.
    public enum Metric: String, Sendable, CaseIterable {
        case min, p50, p90, p99, p999, max, mean
        case errors, throttles
        case transportErrors = "transport_errors"
        case coldStarts = "cold_starts"
        case throughput = "rps"

        var isLatency: Bool {
            switch self {
            case .min, .p50, .p90, .p99, .p999, .max, .mean: true
            default: false
            }
        }
    }

    public enum Comparison: String, Sendable, CaseIterable {
        // Longest first, so `<=` is not read as `<` followed by `=...`.
        case lessOrEqual = "<=", greaterOrEqual = ">=", less = "<", greater = ">"

        func holds(_ value: Double, _ limit: Double) -> Bool {
            switch self {
            case .less: value < limit
            case .lessOrEqual: value <= limit
            case .greater: value > limit
            case .greaterOrEqual: value >= limit
            }
        }
    }

    public let metric: Metric
    public let comparison: Comparison
    /// Milliseconds for latencies; a count, or a percentage of all requests when `percent`.
    public let limit: Double
    public let percent: Bool
    /// The condition as written.
    public let text: String

    public var description: String { text }

    /// Parses `'p99<200ms,errors<1%'`; throws ``LoadError`` (`.usage`) naming the bad condition.
    public static func parseList(_ text: String) throws -> [FailThreshold] {
        try text.split(separator: ",").map { try FailThreshold(parsing: String($0)) }
    }

    public init(parsing raw: String) throws {
        let text = raw.replacingOccurrences(of: " ", with: "")
        guard let comparison = Comparison.allCases.first(where: { text.contains($0.rawValue) }),
            let range = text.range(of: comparison.rawValue)
        else {
            throw LoadError(.usage, "--fail-on condition '\(raw)' has no comparison (<, <=, >, >=)")
        }
        let name = String(text[..<range.lowerBound]).lowercased().replacingOccurrences(of: "-", with: "_")
        guard let metric = Metric(rawValue: name == "throughput" ? "rps" : name) else {
            throw LoadError(
                .usage,
                "--fail-on condition '\(raw)' names no known figure (\(Metric.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        var value = String(text[range.upperBound...]).lowercased()
        var percent = false
        var scale = 1.0
        if value.hasSuffix("%") {
            guard !metric.isLatency, metric != .throughput else {
                throw LoadError(.usage, "--fail-on condition '\(raw)': \(metric.rawValue) cannot be a percentage")
            }
            percent = true
            value.removeLast()
        } else if metric.isLatency {
            for (suffix, factor) in [("ms", 1.0), ("us", 0.001), ("s", 1000.0)] where value.hasSuffix(suffix) {
                value.removeLast(suffix.count)
                scale = factor
                break
            }
        }
        guard let number = Double(value), number.isFinite, number >= 0 else {
            throw LoadError(.usage, "--fail-on condition '\(raw)' has no number after \(comparison.rawValue)")
        }
        self.metric = metric
        self.comparison = comparison
        self.limit = number * scale
        self.percent = percent
        self.text = raw.trimmingCharacters(in: .whitespaces)
    }

    /// The summary's figure for this condition, in the condition's unit; `nil` when the run did not measure it.
    public func value(in summary: LoadSummary) -> Double? {
        let count: Int?
        switch metric {
        case .min: return summary.latency.min
        case .p50: return summary.latency.p50
        case .p90: return summary.latency.p90
        case .p99: return summary.latency.p99
        case .p999: return summary.latency.p999
        case .max: return summary.latency.max
        case .mean: return summary.latency.mean
        case .throughput: return summary.throughputRPS
        case .errors: count = summary.errors
        case .throttles: count = summary.throttles
        case .transportErrors: count = summary.transportErrors
        case .coldStarts: count = summary.coldStarts
        }
        guard let count else { return nil }
        guard percent else { return Double(count) }
        return summary.requests == 0 ? 0 : 100 * Double(count) / Double(summary.requests)
    }

    /// Whether the condition holds for `summary`; a figure that was not measured breaks it.
    public func holds(for summary: LoadSummary) -> Bool {
        guard let value = value(in: summary) else { return false }
        return comparison.holds(value, limit)
    }
}
