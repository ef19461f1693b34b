import Crypto
import Foundation

/// AWS Signature Version 4 for requests fnhost sends to AWS or any Lambda-, SQS- or
/// Kinesis-compatible endpoint: the one signer of the codebase.
///
/// ``sign(method:path:query:headers:payloadHash:date:)`` returns the headers to add
/// (`X-Amz-Date`, `X-Amz-Security-Token` when the credentials have one, `Authorization`); every
/// header passed in is signed, and `Host` must be among them. The signing key is derived once per
/// day and cached. A value type with no shared state: safe to use from any thread.
public struct SigV4Signer: Sendable {
    public let credentials: AWSCredentials
    public let region: String
    public let service: String

    /// Hex SHA-256 of an empty body.
    public static let emptyPayloadHash = payloadHash(of: [UInt8]())

    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// Hex SHA-256 of a request body, for ``sign(method:path:query:headers:payloadHash:date:)``.
    public static func payloadHash(of body: some Sequence<UInt8>) -> String {
        hex(SHA256.hash(data: Array(body)))
    }

    /// The headers to add to the request: `X-Amz-Date`, `X-Amz-Security-Token` (with a session
    /// token), and `Authorization`.
    /// - Parameters:
    ///   - path: the request path as sent (already percent-encoded), e.g. `/2015-03-31/functions/f/invocations`.
    ///   - query: the query string as sent, without `?` (empty for none).
    ///   - headers: the headers to sign, `Host` included; names in any case.
    ///   - payloadHash: ``payloadHash(of:)`` of the body.
    public func sign(
        method: String, path: String, query: String = "", headers: [(name: String, value: String)],
        payloadHash: String, date: Date
    ) -> [(name: String, value: String)] {
        let stamp = AmzDate(date)
        var added: [(name: String, value: String)] = [("X-Amz-Date", stamp.dateTime)]
        if let token = credentials.sessionToken { added.append(("X-Amz-Security-Token", token)) }
        let canonical = Self.canonicalHeaders(headers + added)
        let signedHeaders = canonical.map(\.name).joined(separator: ";")
        let canonicalRequest = [
            method.uppercased(),
            Self.canonicalURI(path),
            Self.canonicalQuery(query),
            canonical.map { "\($0.name):\($0.value)\n" }.joined(),
            signedHeaders,
            payloadHash,
        ].joined(separator: "\n")
        let scope = "\(stamp.day)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256", stamp.dateTime, scope, Self.hex(SHA256.hash(data: Array(canonicalRequest.utf8))),
        ].joined(separator: "\n")
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: signingKey(day: stamp.day)))
        added.append((
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        ))
        return added
    }

    private func signingKey(day: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }

    /// Lower-cased names, trimmed values with inner runs of spaces collapsed, sorted by name;
    /// repeated names joined with commas in the order given.
    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> [(name: String, value: String)] {
        var merged: [String: [String]] = [:]
        for header in headers {
            let value = header.value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            merged[header.name.lowercased(), default: []].append(value)
        }
        return merged.keys.sorted().map { ($0, merged[$0, default: []].joined(separator: ",")) }
    }

    /// Each path segment URI-encoded (again: non-S3 services sign the encoded path encoded once more).
    static func canonicalURI(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        return path.split(separator: "/", omittingEmptySubsequences: false).map { uriEncode(String($0)) }.joined(separator: "/")
    }

    /// Parameters URI-encoded and sorted by name, then value.
    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&").map { item -> (String, String) in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0]).removingPercentEncoding ?? String(parts[0])
            let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
            return (uriEncode(name), uriEncode(value))
        }
        return pairs.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// RFC 3986 encoding as SigV4 wants it: unreserved characters kept, every other byte `%XX` (upper case).
    static func uriEncode(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `20150830T123600Z` and `20150830` for a date, in UTC.
    private struct AmzDate {
        let dateTime: String
        let day: String

        init(_ date: Date) {
            var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
            var parts = tm()
            gmtime_r(&seconds, &parts)
            day = String(format: "%04d%02d%02d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday)
            dateTime = day + String(format: "T%02d%02d%02dZ", parts.tm_hour, parts.tm_min, parts.tm_sec)
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
