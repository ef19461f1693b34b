import Foundation

/// Reads Lambda's `REPORT` line out of an `X-Amz-Log-Result` (the base64 tail of the invocation's log).
enum ReportLine {
    /// The `Init Duration` in milliseconds when the tail's REPORT line has one (a cold start).
    static func initDuration(inBase64Log base64: String) -> Double? {
        guard let data = Data(base64Encoded: base64) else { return nil }
        return initDuration(inLog: String(decoding: data, as: UTF8.self))
    }

    static func initDuration(inLog log: String) -> Double? {
        guard let report = log.range(of: "REPORT RequestId:", options: .backwards) else { return nil }
        let line = log[report.upperBound...]
        guard let field = line.range(of: "Init Duration: ") else { return nil }
        let number = line[field.upperBound...].prefix { $0.isNumber || $0 == "." }
        return Double(number)
    }
}
