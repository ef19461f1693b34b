import Foundation
import Testing

@testable import FunctionHostLoad

@Suite struct LoadTextTests {
    @Test func readsDurationsAsTyped() {
        #expect(DurationText.seconds("30s") == 30)
        #expect(DurationText.seconds("500ms") == 0.5)
        #expect(DurationText.seconds("2m") == 120)
        #expect(DurationText.seconds("1h") == 3600)
        #expect(DurationText.seconds("1.5") == 1.5)
        #expect(DurationText.seconds("-1s") == nil)
        #expect(DurationText.seconds("soon") == nil)
    }

    @Test func findsInitDurationInTheTailedReportLine() {
        let log = "START RequestId: a Version: $LATEST\nEND RequestId: a\nREPORT RequestId: a\tDuration: 1.02 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 3 MB\tInit Duration: 12.34 ms\t\n"
        #expect(ReportLine.initDuration(inBase64Log: Data(log.utf8).base64EncodedString()) == 12.34)
        #expect(ReportLine.initDuration(inLog: Array(log.replacingOccurrences(of: "\tInit Duration: 12.34 ms", with: "").utf8)) == nil)
        // The function's own output may say anything; only a line the platform starts counts.
        #expect(ReportLine.initDuration(inLog: Array("START RequestId: a\nsaid REPORT RequestId: x Init Duration: 9 ms\n".utf8)) == nil)
        #expect(ReportLine.initDuration(inBase64Log: "not base64!") == nil)
    }

    @Test func liveViewShowsProgressRateLatencyAndFailures() {
        let snapshot = LoadProgress(
            elapsed: 2, finished: 250, inFlight: 8, completed: 240, errors: 6, throttles: 3, transportErrors: 1,
            lastSecondCount: 125, lastSecond: (p50: 1.25, p99: 9.5))
        let view = LiveView(stop: .requests(1000), width: 10)
        let line = view.line(snapshot)
        #expect(line.hasPrefix("██░░░░░░░░ 250/1000  ETA 6s"))
        #expect(line.contains("125 req/s") && line.contains("p50 1.2 ms") && line.contains("p99 9.5 ms"))
        #expect(line.contains("in flight 8") && line.contains("errors 7") && line.contains("throttles 3"))
        let plain = LiveView(stop: .duration(seconds: 10)).plainLine(snapshot)
        #expect(plain.hasPrefix("fnhost load:  20% 250 done, 2/10 s"))
        #expect(!plain.contains("\u{1B}"))
    }

    @Test func reportIsOneSelfContainedPageWithItsCharts() throws {
        var recorder = LoadRecorder()
        for index in 0..<300 { recorder.record(.completed, latency: 0.001 + Double(index % 7) / 1000, at: Double(index) / 100) }
        recorder.record(.throttled("TooManyRequestsException: <Rate> & \"more\""), latency: 0.001, at: 1)
        let summary = recorder.summary(function: "Fn<1>", endpoint: "http://127.0.0.1:1", mode: .concurrency(4), duration: 3)
        var baseline = summary
        baseline.latency.p99 = 1
        let html = LoadReport(summary: summary, baseline: baseline).html()
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.components(separatedBy: "<svg ").count - 1 == 5)
        #expect(!html.contains("<script") && !html.contains("http-equiv") && !html.contains("src=") && !html.contains("@import"))
        #expect(!html.contains("href=\"http"))
        #expect(html.contains("Fn&lt;1&gt;") && !html.contains("Fn<1>"))
        #expect(html.contains("&lt;Rate&gt; &amp; &quot;more&quot;"))
        #expect(html.contains("<th>baseline</th><th>delta</th>"))
        #expect(html.contains("stroke-dasharray"))
    }
}
