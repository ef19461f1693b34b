import Foundation

/// Reads the `X-Amz-Log-Result` header: base64 of the invocation's log tail.
enum LogTail {
    /// The `Init Duration` of the tail's REPORT line in milliseconds; `nil` when the invoke was warm.
    static func initDuration(_ header: String?) -> Double? {
        guard let header, let data = Data(base64Encoded: header) else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        guard let report = text.split(separator: "\n").last(where: { $0.hasPrefix("REPORT ") }),
            let field = report.split(separator: "\t").first(where: { $0.hasPrefix("Init Duration: ") })
        else { return nil }
        return Double(field.dropFirst("Init Duration: ".count).prefix { $0 != " " })
    }
}
