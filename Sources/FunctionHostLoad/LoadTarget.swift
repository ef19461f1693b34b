import FunctionHostCore
import Foundation
import NIOHTTP1

/// Where a run sends its invocations and how each request looks: the endpoint, the function, the
/// invocation and log type, the optional SigV4 signer, and the events (cycled).
public struct LoadTarget: Sendable {
    /// `X-Amz-Invocation-Type` values a load run may send.
    public enum InvocationType: String, Sendable, CaseIterable {
        case requestResponse = "RequestResponse"
        case event = "Event"
    }

    public var host: String
    public var port: Int
    /// `https` endpoints: TLS with the system's trust roots and the host name checked.
    public var tls: Bool
    /// The endpoint as the user gave it, for the summary.
    public var endpoint: String
    public var function: String
    public var invocationType: InvocationType
    /// Ask for `X-Amz-Log-Type: Tail`, to read cold starts from REPORT lines.
    public var tailLogs: Bool
    public var signer: SigV4Signer?
    /// Seconds before an unanswered request is given up as a transport error.
    public var timeout: Double
    public var events: [[UInt8]]

    /// Parses `http[s]://HOST[:PORT][/]`; throws ``LoadError`` (`.usage`) otherwise.
    public init(
        endpoint: String, function: String, invocationType: InvocationType = .requestResponse, tailLogs: Bool = true,
        signer: SigV4Signer? = nil, timeout: Double = 900, events: [[UInt8]] = [Array("{}".utf8)]
    ) throws {
        guard let url = URL(string: endpoint), url.scheme == "http" || url.scheme == "https", let host = url.host,
            !host.isEmpty, url.path.isEmpty || url.path == "/"
        else {
            throw LoadError(.usage, "--endpoint must look like http://HOST:PORT or https://HOST (got \(endpoint))")
        }
        self.host = host
        tls = url.scheme == "https"
        self.port = url.port ?? (tls ? 443 : 80)
        self.endpoint = endpoint
        self.function = function
        self.invocationType = invocationType
        self.tailLogs = tailLogs
        self.signer = signer
        self.timeout = timeout
        self.events = events.isEmpty ? [Array("{}".utf8)] : events
    }

    /// `Host:` as sent and signed.
    public var hostHeader: String { port == (tls ? 443 : 80) ? host : "\(host):\(port)" }

    /// The Invoke API path of the function, its name percent-encoded.
    public var invokePath: String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_.:"))
        let name = function.addingPercentEncoding(withAllowedCharacters: allowed)?.replacingOccurrences(of: ":", with: "%3A") ?? function
        return "/2015-03-31/functions/\(name)/invocations"
    }

    /// The request head for `event`, signed at `date` when there is a signer.
    func head(body: [UInt8], invocationType: String? = nil, date: Date, payloadHash: String?) -> HTTPRequestHead {
        var headers: [(name: String, value: String)] = [
            ("Host", hostHeader),
            ("Content-Type", "application/json"),
            ("X-Amz-Invocation-Type", invocationType ?? self.invocationType.rawValue),
        ]
        if tailLogs && (invocationType ?? self.invocationType.rawValue) == InvocationType.requestResponse.rawValue {
            headers.append(("X-Amz-Log-Type", "Tail"))
        }
        if let signer {
            headers += signer.sign(
                method: "POST", path: invokePath, headers: headers,
                payloadHash: payloadHash ?? SigV4Signer.payloadHash(of: body), date: date)
        }
        headers.append(("Content-Length", String(body.count)))
        headers.append(("User-Agent", "fnhost-load"))
        return HTTPRequestHead(version: .http1_1, method: .POST, uri: invokePath, headers: HTTPHeaders(headers))
    }
}
