import Foundation

/// The human summary printed at the end of a run without `--json`.
public enum SummaryText {
    public static func render(_ summary: LoadSummary) -> String {
        func ms(_ value: Double?) -> String { value.map { String(format: "%.2f ms", $0) } ?? "–" }
        var lines = [
            "fnhost load \(summary.function) → \(summary.endpoint)\(summary.interrupted ? " (interrupted)" : "")",
            "  requests     \(summary.requests) in \(String(format: "%.2f", summary.durationS)) s, \(String(format: "%.1f", summary.throughputRPS)) req/s",
            "  completed    \(summary.completed)",
            "  errors       \(summary.errors)    throttles \(summary.throttles)    transport errors \(summary.transportErrors)",
            "  cold starts  \(summary.coldStarts.map(String.init) ?? "unknown")"
                + (summary.initDuration.p50 == nil ? "" : "    init p50 \(ms(summary.initDuration.p50))  p99 \(ms(summary.initDuration.p99))  max \(ms(summary.initDuration.max))"),
            "  latency      min \(ms(summary.latency.min))  p50 \(ms(summary.latency.p50))  p90 \(ms(summary.latency.p90))  p99 \(ms(summary.latency.p99))",
            "               p99.9 \(ms(summary.latency.p999))  max \(ms(summary.latency.max))  mean \(ms(summary.latency.mean))  stdev \(ms(summary.latency.stdev))",
        ]
        lines += summary.errorSamples.map { "  ! \($0)" }
        lines += summary.warnings.map { "  warning: \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }
}
