import Foundation

/// Reads Lambda's `REPORT` line out of an `X-Amz-Log-Result` (the base64 tail of the invocation's log).
enum ReportLine {
    /// The `Init Duration` in milliseconds when the tail's REPORT line has one (a cold start).
    static func initDuration(inBase64Log base64: String) -> Double? {
        guard let data = Data(base64Encoded: base64) else { return nil }
        return initDuration(inLog: [UInt8](data))
    }

    /// From the log's last line that starts with `REPORT RequestId:`. Bytes, not a `String`:
    /// Foundation's backwards search over a string was a sixth of `fnhost load`'s CPU.
    static func initDuration(inLog log: [UInt8]) -> Double? {
        guard let report = log.split(separator: UInt8(ascii: "\n")).last(where: { $0.starts(with: reportPrefix) }),
            let field = report.firstRange(of: initDurationField)
        else { return nil }
        let number = report[field.upperBound...].prefix { $0 == UInt8(ascii: ".") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        return Double(String(decoding: number, as: UTF8.self))
    }

    private static let reportPrefix = Array("REPORT RequestId:".utf8)
    private static let initDurationField = Array("Init Duration: ".utf8)
}
