import Testing

@testable import FunctionHostLoad

@Suite struct LoadRecorderTests {
    @Test func countsEveryOutcomeApartAndTheyAddUp() {
        var recorder = LoadRecorder()
        for index in 0..<90 { recorder.record(.completed, latency: 0.001 * Double(index + 1), at: Double(index) / 30) }
        for _ in 0..<4 { recorder.record(.error("Unhandled: boom"), latency: 0.002, at: 1.5) }
        for _ in 0..<3 { recorder.record(.throttled("TooManyRequestsException: Rate Exceeded."), latency: 0.0005, at: 2.5) }
        for _ in 0..<7 { recorder.record(.transportError("connection reset"), latency: 0.1, at: 2.9) }
        let summary = recorder.summary(function: "f", endpoint: "http://127.0.0.1:1", mode: .rate(35), duration: 3)
        #expect(summary.requests == 104)
        #expect(summary.completed + summary.errors + summary.throttles + summary.transportErrors == summary.requests)
        #expect(summary.errors == 4 && summary.throttles == 3 && summary.transportErrors == 7)
        #expect(summary.mode == "rate" && summary.target == 35)
        #expect(abs(summary.throughputRPS - 34.7) < 0.05)
        // Samples: at most five per kind, labelled.
        #expect(summary.errorSamples.filter { $0.hasPrefix("transport: ") }.count == LoadRecorder.samplesPerKind)
        #expect(summary.errorSamples.contains("throttle: TooManyRequestsException: Rate Exceeded."))
        // Per second: completions land in the second they ended in.
        #expect(summary.series.map(\.completed) == [30, 30, 30])
        #expect(summary.series[2].transportErrors == 7)
    }

    @Test func percentilesAreNearestRankWithinHistogramPrecision() {
        var recorder = LoadRecorder()
        for ms in 1...1000 { recorder.record(.completed, latency: Double(ms) / 1000, at: 0) }
        let latency = recorder.summary(function: "f", endpoint: "e", mode: .concurrency(1), duration: 1).latency
        func near(_ value: Double?, _ expected: Double) -> Bool { value.map { abs($0 - expected) <= expected * 0.002 } ?? false }
        #expect(near(latency.min, 1))
        #expect(near(latency.p50, 500))
        #expect(near(latency.p90, 900))
        #expect(near(latency.p99, 990))
        #expect(near(latency.p999, 999))
        #expect(near(latency.max, 1000))
        #expect(near(latency.mean, 500.5))
        // Population standard deviation of 1...1000 is 288.67.
        #expect(near(latency.stdev, 288.67))
    }

    @Test func transportErrorsHaveNoLatencyAndNothingAnsweredMeansNoFigures() {
        var recorder = LoadRecorder()
        recorder.record(.transportError("refused"), latency: 5, at: 0)
        let summary = recorder.summary(function: "f", endpoint: "e", mode: .concurrency(1), duration: 1)
        #expect(summary.latency.p50 == nil && summary.latency.max == nil)
        #expect(summary.distribution.isEmpty)
        #expect(summary.requests == 1)
    }

    @Test func coldStartsComeWithTheirInitDurations() {
        var recorder = LoadRecorder()
        recorder.record(.completed, latency: 0.05, at: 0, initDuration: 40)
        recorder.record(.completed, latency: 0.06, at: 0, initDuration: 60)
        recorder.record(.completed, latency: 0.001, at: 0)
        let summary = recorder.summary(function: "f", endpoint: "e", mode: .concurrency(2), duration: 1)
        #expect(summary.coldStarts == 2)
        #expect(summary.initDuration.max.map { abs($0 - 60) < 0.1 } == true)
        #expect(summary.series[0].coldStarts == 2)
        // Told by the host instead (no log tail): its figure wins, and "unknown" stays unknown.
        #expect(recorder.summary(function: "f", endpoint: "e", mode: .concurrency(2), duration: 1, coldStartsFromHost: .some(5)).coldStarts == 5)
        #expect(recorder.summary(function: "f", endpoint: "e", mode: .concurrency(2), duration: 1, coldStartsFromHost: .some(nil)).coldStarts == nil)
    }

    @Test func distributionIsDenseTowardsTheTailAndEndsAtTheMaximum() {
        var recorder = LoadRecorder()
        for ms in 1...10_000 { recorder.record(.completed, latency: Double(ms) / 1_000_000, at: 0) }
        let points = recorder.summary(function: "f", endpoint: "e", mode: .concurrency(1), duration: 1).distribution
        let percentiles = points.map(\.percentile)
        #expect(percentiles.first == 0 && percentiles.last == 100)
        #expect(percentiles.contains(90) && percentiles.contains(99) && percentiles.contains(99.9))
        #expect(zip(percentiles, percentiles.dropFirst()).allSatisfy { $0 < $1 })
        #expect(zip(points, points.dropFirst()).allSatisfy { $0.ms <= $1.ms })
    }

    @Test func summaryJSONRoundTripsAndKeepsNullsForUnknownFigures() throws {
        var recorder = LoadRecorder()
        recorder.record(.completed, latency: 0.002, at: 0.2)
        var summary = recorder.summary(function: "f", endpoint: "e", mode: .concurrency(1), duration: 0.5)
        summary.coldStarts = nil
        let text = summary.jsonText()
        #expect(text.contains("\"cold_starts\":null"))
        #expect(text.contains("\"init_duration_ms\":{\"p50\":null,\"p99\":null,\"max\":null}"))
        let decoded = try JSONDecoder().decode(LoadSummary.self, from: Data(text.utf8))
        #expect(decoded == summary)
    }
}

import Foundation
