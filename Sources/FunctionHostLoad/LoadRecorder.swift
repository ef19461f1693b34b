import Foundation
import Histogram

/// Accumulates the outcome of every measured request and turns it into a ``LoadSummary``.
/// A value type with no clock of its own: every call says when (seconds since the start of the
/// measured run), so it is tested without a network or a real clock.
public struct LoadRecorder: Sendable {
    /// How many messages of each kind of failure are kept for `error_samples`.
    public static let samplesPerKind = 5
    /// Latencies are recorded in microseconds, up to an hour.
    static let highestMicroseconds: UInt64 = 3_600_000_000

    private var all = Histogram<UInt64>(highestTrackableValue: highestMicroseconds, numberOfSignificantValueDigits: .three)
    private var initDurations = Histogram<UInt64>(highestTrackableValue: highestMicroseconds, numberOfSignificantValueDigits: .three)
    private var perSecond: [Histogram<UInt32>] = []
    private var seconds: [LoadSummary.Second] = []
    private var samples: [String: [String]] = [:]
    public private(set) var completed = 0
    public private(set) var errors = 0
    public private(set) var throttles = 0
    public private(set) var transportErrors = 0
    public private(set) var coldStarts = 0

    public init() {}

    /// Every request that ended.
    public var requests: Int { completed + errors + throttles + transportErrors }

    /// Records one request that ended `at` seconds into the run after `latency` seconds (from its
    /// intended start); `initDuration` (ms) when the host reported a cold start for it.
    public mutating func record(_ outcome: RequestOutcome, latency: Double, at time: Double, initDuration: Double? = nil) {
        let index = Swift.max(0, Int(time))
        ensureSecond(index)
        let micros = UInt64(Swift.max(1, Swift.min(latency * 1_000_000, Double(Self.highestMicroseconds))))
        switch outcome {
        case .completed:
            completed += 1
            seconds[index].completed += 1
        case .error(let message):
            errors += 1
            seconds[index].errors += 1
            keep(message, kind: "error")
        case .throttled(let message):
            throttles += 1
            seconds[index].throttles += 1
            keep(message, kind: "throttle")
        case .transportError(let message):
            transportErrors += 1
            seconds[index].transportErrors += 1
            keep(message, kind: "transport")
            return  // no HTTP answer, no latency
        }
        _ = all.record(micros)
        _ = perSecond[index].record(micros)
        if let initDuration {
            coldStarts += 1
            seconds[index].coldStarts += 1
            _ = initDurations.record(UInt64(Swift.max(1, initDuration * 1000)))
        }
    }

    /// Notes the requests in flight at the end of second `second`.
    public mutating func sampleInFlight(_ count: Int, second: Int) {
        guard second >= 0 else { return }
        ensureSecond(second)
        seconds[second].inFlight = count
    }

    /// p50 and p99 (ms) of the requests that ended in second `second`, for the live view.
    public func percentiles(ofSecond second: Int) -> (p50: Double, p99: Double)? {
        guard second >= 0, second < perSecond.count, perSecond[second].totalCount > 0 else { return nil }
        return (Self.ms(perSecond[second].valueAtPercentile(50)), Self.ms(perSecond[second].valueAtPercentile(99)))
    }

    /// Requests that ended in second `second`.
    public func answered(inSecond second: Int) -> Int {
        guard second >= 0, second < seconds.count else { return 0 }
        return seconds[second].answered
    }

    private mutating func ensureSecond(_ index: Int) {
        while seconds.count <= index {
            seconds.append(LoadSummary.Second(t: seconds.count))
            perSecond.append(Histogram<UInt32>(highestTrackableValue: Self.highestMicroseconds, numberOfSignificantValueDigits: .two))
        }
    }

    private mutating func keep(_ message: String, kind: String) {
        guard samples[kind, default: []].count < Self.samplesPerKind else { return }
        samples[kind, default: []].append(String(message.prefix(500)))
    }

    static func ms(_ micros: UInt64) -> Double { (Double(micros) / 1000 * 1000).rounded() / 1000 }
    static func ms(_ micros: Double) -> Double { (micros / 1000 * 1000).rounded() / 1000 }

    /// The summary of everything recorded, for a run of `duration` seconds.
    /// - Parameter coldStartsFromHost: the host's own count (from `/metrics`) when logs were not tailed.
    public func summary(
        function: String, endpoint: String, mode: LoadMode, duration: Double, coldStartsFromHost: Int?? = nil,
        interrupted: Bool = false, warnings: [String] = []
    ) -> LoadSummary {
        var latency = LoadSummary.Latency()
        if all.totalCount > 0 {
            latency = LoadSummary.Latency(
                min: Self.ms(all.min), p50: Self.ms(all.valueAtPercentile(50)), p90: Self.ms(all.valueAtPercentile(90)),
                p99: Self.ms(all.valueAtPercentile(99)), p999: Self.ms(all.valueAtPercentile(99.9)), max: Self.ms(all.max),
                mean: Self.ms(all.mean), stdev: Self.ms(all.stdDeviation))
        }
        var initDuration = LoadSummary.InitDuration()
        if initDurations.totalCount > 0 {
            initDuration = LoadSummary.InitDuration(
                p50: Self.ms(initDurations.valueAtPercentile(50)), p99: Self.ms(initDurations.valueAtPercentile(99)),
                max: Self.ms(initDurations.max))
        }
        var series = seconds
        for index in series.indices where perSecond[index].totalCount > 0 {
            series[index].p50 = Self.ms(perSecond[index].valueAtPercentile(50))
            series[index].p99 = Self.ms(perSecond[index].valueAtPercentile(99))
            series[index].max = Self.ms(perSecond[index].max)
        }
        let target: Double
        switch mode {
        case .concurrency(let clients): target = Double(clients)
        case .rate(let rate): target = rate
        }
        let coldStarts: Int? = coldStartsFromHost ?? self.coldStarts
        return LoadSummary(
            function: function, endpoint: endpoint, mode: mode.name, target: target, requests: requests,
            completed: completed, errors: errors, throttles: throttles, transportErrors: transportErrors,
            coldStarts: coldStarts, durationS: (duration * 1000).rounded() / 1000,
            throughputRPS: duration > 0 ? (Double(requests) / duration * 10).rounded() / 10 : 0,
            latency: latency, initDuration: initDuration,
            errorSamples: ["error", "throttle", "transport"].flatMap { kind in samples[kind, default: []].map { "\(kind): \($0)" } },
            interrupted: interrupted, warnings: warnings, distribution: distribution(), series: series)
    }

    /// The latency distribution at the percentiles a log-scaled chart needs, dense towards the
    /// tail: 0, 10, ... 80, then 90, 91, ... 98, then 99, 99.1, ... as far as the sample count resolves.
    private func distribution() -> [LoadSummary.Point] {
        guard all.totalCount > 0 else { return [] }
        let resolvable = 100 - 100 / Double(all.totalCount)
        var points: [LoadSummary.Point] = []
        for decade in 0..<7 {
            let base = 100 - 100 / pow(10, Double(decade))
            let step = 10 / pow(10, Double(decade))
            for k in 0..<9 {
                let percentile = base + Double(k) * step
                guard percentile <= resolvable else { break }
                points.append(LoadSummary.Point(percentile: percentile, ms: Self.ms(all.valueAtPercentile(percentile))))
            }
        }
        points.append(LoadSummary.Point(percentile: 100, ms: Self.ms(all.max)))
        return points
    }
}
