import Foundation

/// Reads Lambda's `REPORT` line out of an `X-Amz-Log-Result` (the base64 tail of the invocation's log).
///
/// Plain loops over the bytes: this runs on every response `fnhost load` reads, and Foundation's
/// backwards string search (a sixth of its CPU) and the generic collection searches (their
/// metadata look-ups) each cost more than the rest of reading a response.
enum ReportLine {
    /// The `Init Duration` in milliseconds when the tail's REPORT line has one (a cold start).
    static func initDuration(inBase64Log base64: String) -> Double? {
        guard let data = Data(base64Encoded: base64) else { return nil }
        return initDuration(inLog: [UInt8](data))
    }

    /// From the log's last line that starts with `REPORT RequestId:`.
    static func initDuration(inLog log: [UInt8]) -> Double? {
        var report: Range<Int>?
        var lineStart = 0
        while lineStart < log.count {
            let lineEnd = log[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? log.count
            if occurs(reportPrefix, in: log, at: lineStart, before: lineEnd) { report = lineStart..<lineEnd }
            lineStart = lineEnd + 1
        }
        guard let report,
            let field = report.first(where: { occurs(initDurationField, in: log, at: $0, before: report.upperBound) })
        else { return nil }
        let number = log[(field + initDurationField.count)..<report.upperBound].prefix {
            $0 == UInt8(ascii: ".") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
        }
        return Double(String(decoding: number, as: UTF8.self))
    }

    private static let reportPrefix = Array("REPORT RequestId:".utf8)
    private static let initDurationField = Array("Init Duration: ".utf8)

    private static func occurs(_ needle: [UInt8], in log: [UInt8], at index: Int, before end: Int) -> Bool {
        index + needle.count <= end && log[index..<(index + needle.count)].elementsEqual(needle)
    }
}
