import Testing

@testable import FunctionHostLoad

@Suite struct FailThresholdTests {
    static func summary(requests: Int = 200, errors: Int = 0, throttles: Int = 0, p99: Double? = 150) -> LoadSummary {
        var recorder = LoadRecorder()
        for _ in 0..<(requests - errors - throttles) { recorder.record(.completed, latency: 0.01, at: 0) }
        for _ in 0..<errors { recorder.record(.error("boom"), latency: 0.01, at: 0) }
        for _ in 0..<throttles { recorder.record(.throttled("slow down"), latency: 0.001, at: 0) }
        var summary = recorder.summary(function: "f", endpoint: "http://x", mode: .concurrency(1), duration: 1)
        summary.latency.p99 = p99
        return summary
    }

    @Test func parsesTheIssueExample() throws {
        let thresholds = try FailThreshold.parseList("p99<200ms,errors<1%")
        #expect(thresholds.count == 2)
        #expect(thresholds[0].metric == .p99 && thresholds[0].comparison == .less && thresholds[0].limit == 200)
        #expect(thresholds[1].metric == .errors && thresholds[1].percent && thresholds[1].limit == 1)
    }

    @Test func convertsLatencyUnitsToMilliseconds() throws {
        #expect(try FailThreshold(parsing: "p50<1s").limit == 1000)
        #expect(try FailThreshold(parsing: "max<=250us").limit == 0.25)
        #expect(try FailThreshold(parsing: "mean < 12").limit == 12)
        #expect(try FailThreshold(parsing: "p99<=200ms").comparison == .lessOrEqual)
        #expect(try FailThreshold(parsing: "rps>=100").metric == .throughput)
        #expect(try FailThreshold(parsing: "transport-errors<1").metric == .transportErrors)
    }

    @Test(arguments: ["p99", "p99=200", "p98<200ms", "errors<abc", "p99<5%", "rps>1%", "errors<-1"])
    func rejectsWhatItCannotRead(_ text: String) {
        #expect(throws: LoadError.self) { try FailThreshold(parsing: text) }
    }

    @Test func holdsOrBreaksAgainstASummary() throws {
        let healthy = Self.summary(errors: 1)  // 0.5 %
        let broken = Self.summary(errors: 4, p99: 250)  // 2 %
        let thresholds = try FailThreshold.parseList("p99<200ms,errors<1%")
        #expect(thresholds.allSatisfy { $0.holds(for: healthy) })
        #expect(thresholds.filter { !$0.holds(for: broken) }.count == 2)
        #expect(try FailThreshold(parsing: "throttles<3").holds(for: Self.summary(throttles: 2)))
        #expect(!(try FailThreshold(parsing: "throttles<3").holds(for: Self.summary(throttles: 3))))
    }

    @Test func aFigureThatWasNotMeasuredBreaksTheCondition() throws {
        #expect(!(try FailThreshold(parsing: "p99<200ms").holds(for: Self.summary(p99: nil))))
    }
}
