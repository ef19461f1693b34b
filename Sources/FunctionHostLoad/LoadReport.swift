import Foundation

/// The `--report` page: one self-contained HTML file (inline CSS and SVG, no script, no external
/// font or request) with the summary table and the charts; with a baseline (`--compare`) the table
/// shows both runs and their deltas, and each chart draws the baseline dashed.
public struct LoadReport {
    public let summary: LoadSummary
    public let baseline: LoadSummary?

    public init(summary: LoadSummary, baseline: LoadSummary?) {
        self.summary = summary
        self.baseline = baseline
    }

    static let colors = ["#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df"]

    public func html() -> String {
        let title = "fnhost load: \(summary.function)"
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(SVGChart.escape(title))</title>
            <style>
            body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328; margin: 2em auto; max-width: 820px; padding: 0 1em; }
            h1 { font-size: 1.5em; margin-bottom: 0.2em; }
            p.meta { color: #59636e; margin-top: 0; }
            table { border-collapse: collapse; margin: 1em 0 2em; font-variant-numeric: tabular-nums; }
            th, td { border-bottom: 1px solid #d1d9e0; padding: 4px 12px; text-align: right; }
            th:first-child, td:first-child { text-align: left; }
            td.worse { color: #d1242f; } td.better { color: #1a7f37; }
            .warnings { background: #fff8c5; border: 1px solid #d4a72c; padding: 0.5em 1em; }
            .chart { width: 100%; height: auto; margin: 0.5em 0 1.5em; page-break-inside: avoid; }
            .chart-title { font-size: 14px; font-weight: 600; fill: #1f2328; }
            .tick, .legend { font-size: 11px; fill: #59636e; } .axis-label { font-size: 11px; fill: #1f2328; }
            .grid { stroke: #eaeef2; stroke-width: 1; } .axis { stroke: #59636e; stroke-width: 1; }
            ul.samples { font-family: ui-monospace, monospace; font-size: 12px; }
            @media print { body { margin: 0; max-width: none; } }
            </style>
            </head>
            <body>
            <h1>\(SVGChart.escape(title))</h1>
            <p class="meta">\(SVGChart.escape(meta(summary)))\(baseline.map { "<br>compared with (dashed): " + SVGChart.escape(meta($0)) } ?? "")</p>
            \(warnings())
            \(table())
            \(charts())
            \(samples())
            </body>
            </html>

            """
    }

    private func meta(_ run: LoadSummary) -> String {
        let load = run.mode == "rate" ? "\(SVGChart.label(run.target)) req/s open loop" : "\(Int(run.target)) concurrent clients"
        return "\(run.endpoint) · \(load) · \(run.requests) requests in \(String(format: "%.1f", run.durationS)) s\(run.interrupted ? " · interrupted" : "")"
    }

    private func warnings() -> String {
        guard !summary.warnings.isEmpty else { return "" }
        return "<div class=\"warnings\">" + summary.warnings.map { "<p>\(SVGChart.escape($0))</p>" }.joined() + "</div>"
    }

    /// Rows: label, this run's value, the baseline's, and whether lower is better.
    private func table() -> String {
        func row(_ label: String, _ value: (LoadSummary) -> Double?, unit: String, lowerIsBetter: Bool = true) -> String {
            let now = value(summary)
            var cells = "<td>\(label)</td><td>\(format(now, unit))</td>"
            if let baseline {
                let before = value(baseline)
                cells += "<td>\(format(before, unit))</td>"
                if let now, let before {
                    let delta = now - before
                    let relative = before == 0 ? "" : String(format: " (%+.1f%%)", delta / before * 100)
                    let better = delta == 0 ? "" : ((delta < 0) == lowerIsBetter ? "better" : "worse")
                    cells += "<td class=\"\(better)\">\(delta >= 0 ? "+" : "")\(Self.number(delta))\(relative)</td>"
                } else {
                    cells += "<td>–</td>"
                }
            }
            return "<tr>\(cells)</tr>\n"
        }
        var out = "<table>\n<tr><th>figure</th><th>this run</th>\(baseline == nil ? "" : "<th>baseline</th><th>delta</th>")</tr>\n"
        out += row("requests", { Double($0.requests) }, unit: "", lowerIsBetter: false)
        out += row("completed", { Double($0.completed) }, unit: "", lowerIsBetter: false)
        out += row("function errors", { Double($0.errors) }, unit: "")
        out += row("throttles (429)", { Double($0.throttles) }, unit: "")
        out += row("transport errors", { Double($0.transportErrors) }, unit: "")
        out += row("cold starts", { $0.coldStarts.map(Double.init) }, unit: "")
        out += row("throughput", { $0.throughputRPS }, unit: " req/s", lowerIsBetter: false)
        out += row("latency min", { $0.latency.min }, unit: " ms")
        out += row("latency p50", { $0.latency.p50 }, unit: " ms")
        out += row("latency p90", { $0.latency.p90 }, unit: " ms")
        out += row("latency p99", { $0.latency.p99 }, unit: " ms")
        out += row("latency p99.9", { $0.latency.p999 }, unit: " ms")
        out += row("latency max", { $0.latency.max }, unit: " ms")
        out += row("latency mean", { $0.latency.mean }, unit: " ms")
        out += row("latency stdev", { $0.latency.stdev }, unit: " ms")
        out += row("init duration p50", { $0.initDuration.p50 }, unit: " ms")
        out += row("init duration p99", { $0.initDuration.p99 }, unit: " ms")
        out += row("init duration max", { $0.initDuration.max }, unit: " ms")
        return out + "</table>"
    }

    private func format(_ value: Double?, _ unit: String) -> String {
        guard let value else { return "–" }
        return Self.number(value) + unit
    }

    /// Whole numbers as they are, others with three significant digits, never in exponent form.
    static func number(_ value: Double) -> String {
        if value == value.rounded() || abs(value) >= 100 { return String(format: "%.0f", value) }
        return abs(value) >= 10 ? String(format: "%.1f", value) : String(format: "%.3g", value)
    }

    private func runs() -> [(run: LoadSummary, dashed: Bool, suffix: String)] {
        [(summary, false, "")] + (baseline.map { [($0, true, " (baseline)")] } ?? [])
    }

    private func charts() -> String {
        let maxNines = max(2, runs().map { run in
            Int(ceil(SVGChart.nines(run.run.distribution.dropLast().last?.percentile ?? 0, cap: 6))) + 1
        }.max() ?? 2)
        var distribution: [SVGChart.Series] = []
        var latency: [SVGChart.Series] = []
        var throughput: [SVGChart.Series] = []
        var concurrency: [SVGChart.Series] = []
        var failures: [SVGChart.Series] = []
        for (run, dashed, suffix) in runs() {
            let seconds = run.series
            func points(_ value: (LoadSummary.Second) -> Double?) -> [(x: Double, y: Double)] {
                seconds.compactMap { second in value(second).map { (Double(second.t) + 1, $0) } }
            }
            distribution.append(.init(
                name: "latency" + suffix,
                points: run.distribution.map { (SVGChart.nines($0.percentile, cap: maxNines), $0.ms) },
                color: Self.colors[0], dashed: dashed))
            latency.append(.init(name: "p50" + suffix, points: points(\.p50), color: Self.colors[0], dashed: dashed))
            latency.append(.init(name: "p99" + suffix, points: points(\.p99), color: Self.colors[1], dashed: dashed))
            latency.append(.init(name: "max" + suffix, points: points(\.max), color: Self.colors[3], dashed: dashed))
            // The last second is usually partial: its count is scaled to a rate, or left out when
            // under half a second (a handful of stragglers would read as a spike or a drop).
            throughput.append(.init(
                name: "answered/s" + suffix,
                points: points { second in
                    let window = min(1, run.durationS - Double(second.t))
                    return window < 0.5 ? nil : Double(second.answered) / window
                },
                color: Self.colors[2], dashed: dashed))
            concurrency.append(.init(name: "in flight" + suffix, points: points { Double($0.inFlight) }, color: Self.colors[0], dashed: dashed))
            concurrency.append(.init(name: "cold starts/s" + suffix, points: points { Double($0.coldStarts) }, color: Self.colors[4], dashed: dashed))
            failures.append(.init(name: "errors/s" + suffix, points: points { Double($0.errors + $0.transportErrors) }, color: Self.colors[1], dashed: dashed))
            failures.append(.init(name: "throttles/s" + suffix, points: points { Double($0.throttles) }, color: Self.colors[3], dashed: dashed))
        }
        return [
            SVGChart(title: "Latency percentile distribution", yLabel: "latency (ms)", xAxis: .percentile(maxNines: maxNines), series: distribution),
            SVGChart(title: "Latency over time (per second)", yLabel: "latency (ms)", xAxis: .seconds, series: latency),
            SVGChart(title: "Throughput over time", yLabel: "requests/s", xAxis: .seconds, series: throughput),
            SVGChart(title: "In-flight concurrency and cold starts", yLabel: "requests", xAxis: .seconds, series: concurrency),
            SVGChart(title: "Throttles and errors over time", yLabel: "per second", xAxis: .seconds, series: failures),
        ].map { $0.svg() }.joined(separator: "\n")
    }

    private func samples() -> String {
        guard !summary.errorSamples.isEmpty else { return "" }
        return "<h2>First failures</h2>\n<ul class=\"samples\">"
            + summary.errorSamples.map { "<li>\(SVGChart.escape($0))</li>" }.joined(separator: "\n") + "</ul>"
    }
}
