import Foundation

/// A line chart as inline SVG: axes with ticks and units, a legend, one polyline per series
/// (dashed for a baseline run). No script, no external font: it prints and renders offline.
struct SVGChart {
    struct Series {
        var name: String
        var points: [(x: Double, y: Double)]
        var color: String
        var dashed = false
    }

    /// How an x value is labelled and placed.
    enum XAxis {
        /// Seconds since the start of the run.
        case seconds
        /// Percentiles placed by log10(1/(1-p)), labelled 0%, 90%, 99%, 99.9%, …
        case percentile(maxNines: Int)
    }

    var title: String
    var yLabel: String
    var xAxis: XAxis
    var series: [Series]
    var width = 760.0
    var height = 260.0
    private let left = 64.0, right = 16.0, top = 50.0, bottom = 44.0

    init(title: String, yLabel: String, xAxis: XAxis, series: [Series]) {
        self.title = title
        self.yLabel = yLabel
        self.xAxis = xAxis
        self.series = series
    }

    /// Where a percentile sits on the log axis: 0 for 0 %, 1 for 90 %, 2 for 99 %, …
    static func nines(_ percentile: Double, cap: Int) -> Double {
        guard percentile < 100 else { return Double(cap) }
        return min(Double(cap), log10(100 / (100 - percentile)))
    }

    func svg() -> String {
        let plotted = series.filter { !$0.points.isEmpty }
        let xs = plotted.flatMap { $0.points.map(\.x) }
        let ys = plotted.flatMap { $0.points.map(\.y) }
        let xRange: (Double, Double)
        switch xAxis {
        case .seconds: xRange = (0, max(1, xs.max() ?? 1))
        case .percentile(let maxNines): xRange = (0, Double(maxNines))
        }
        let highest = (ys.max() ?? 0) > 0 ? (ys.max() ?? 1) : 1
        let yStep = Self.niceStep(highest / 5)
        let yTicks = max(1, Int((highest / yStep).rounded(.up)))
        let yMax = yStep * Double(yTicks)
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        func px(_ x: Double) -> Double { left + (x - xRange.0) / (xRange.1 - xRange.0) * plotWidth }
        func py(_ y: Double) -> Double { top + plotHeight - y / yMax * plotHeight }
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 \(Int(width)) \(Int(height))" role="img" aria-label="\(Self.escape(title))">
            <title>\(Self.escape(title))</title>
            <text x="\(left)" y="18" class="chart-title">\(Self.escape(title))</text>

            """
        // Y grid and ticks.
        for step in 0...yTicks {
            let value = yStep * Double(step)
            let y = py(value)
            out += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(width - right))\" y2=\"\(f(y))\" class=\"grid\"/>"
            out += "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" class=\"tick\" text-anchor=\"end\">\(Self.label(value))</text>\n"
        }
        // X ticks.
        switch xAxis {
        case .seconds:
            let step = max(1, Self.niceStep(xRange.1 / 8))
            var value = 0.0
            while value <= xRange.1 + 1e-9 {
                out += "<line x1=\"\(f(px(value)))\" y1=\"\(f(top + plotHeight))\" x2=\"\(f(px(value)))\" y2=\"\(f(top + plotHeight + 4))\" class=\"axis\"/>"
                out += "<text x=\"\(f(px(value)))\" y=\"\(f(top + plotHeight + 16))\" class=\"tick\" text-anchor=\"middle\">\(Self.label(value))</text>\n"
                value += step
            }
            out += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(height - 6))\" class=\"axis-label\" text-anchor=\"middle\">time since start (s)</text>\n"
        case .percentile(let maxNines):
            for nines in 0...maxNines {
                let text = nines == 0 ? "0%" : String(format: "%.\(max(0, nines - 2))f%%", 100 - 100 / pow(10, Double(nines)))
                out += "<line x1=\"\(f(px(Double(nines))))\" y1=\"\(f(top))\" x2=\"\(f(px(Double(nines))))\" y2=\"\(f(top + plotHeight))\" class=\"grid\"/>"
                out += "<text x=\"\(f(px(Double(nines))))\" y=\"\(f(top + plotHeight + 16))\" class=\"tick\" text-anchor=\"middle\">\(text)</text>\n"
            }
            out += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(height - 6))\" class=\"axis-label\" text-anchor=\"middle\">percentile (log scale of 1/(1−p))</text>\n"
        }
        out += "<line x1=\"\(f(left))\" y1=\"\(f(top + plotHeight))\" x2=\"\(f(width - right))\" y2=\"\(f(top + plotHeight))\" class=\"axis\"/>"
        out += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + plotHeight))\" class=\"axis\"/>\n"
        out += "<text transform=\"translate(14 \(f(top + plotHeight / 2))) rotate(-90)\" class=\"axis-label\" text-anchor=\"middle\">\(Self.escape(yLabel))</text>\n"
        for line in plotted {
            let points = line.points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            out += "<polyline fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"1.8\"\(line.dashed ? " stroke-dasharray=\"5 4\"" : "") points=\"\(points)\"/>\n"
        }
        if plotted.isEmpty {
            out += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(top + plotHeight / 2))\" class=\"tick\" text-anchor=\"middle\">nothing recorded</text>\n"
        }
        // Legend, in a row under the title.
        var x = left
        for line in series {
            out += "<line x1=\"\(f(x))\" y1=\"32\" x2=\"\(f(x + 18))\" y2=\"32\" stroke=\"\(line.color)\" stroke-width=\"2.5\"\(line.dashed ? " stroke-dasharray=\"5 4\"" : "")/>"
            out += "<text x=\"\(f(x + 22))\" y=\"36\" class=\"legend\">\(Self.escape(line.name))</text>\n"
            x += Double(line.name.count) * 6.2 + 40
        }
        return out + "</svg>\n"
    }

    private func f(_ value: Double) -> String { String(format: "%.1f", value) }

    static func label(_ value: Double) -> String {
        if value == 0 { return "0" }
        if value >= 100 || value == value.rounded() { return String(format: "%.0f", value) }
        if value >= 1 { return String(format: "%.1f", value) }
        return String(format: "%.2g", value)
    }

    /// 1, 2 or 5 times a power of ten, at least `value`: a step that gives round tick labels.
    static func niceStep(_ value: Double) -> Double {
        let magnitude = pow(10, floor(log10(value)))
        for factor in [1.0, 2, 5, 10] where factor * magnitude >= value { return factor * magnitude }
        return 10 * magnitude
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
