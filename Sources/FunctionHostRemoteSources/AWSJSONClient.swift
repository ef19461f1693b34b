import AsyncHTTPClient
import Foundation
import FunctionHostCore
import NIOCore
import NIOHTTP1

/// One AWS JSON-protocol service (`POST /`, `X-Amz-Target`), every request SigV4-signed with
/// ``SigV4Signer`` for the region it is about (an ARN's region: a queue in `eu-west-1` is signed
/// for and, without an endpoint override, sent to `eu-west-1`). Throws ``RemoteSourceError`` for an
/// error answer, or the transport's error. Thread-safe; credentials never reach a log or an error.
public struct AWSJSONClient: Sendable {
    let service: AWSServiceEndpoint
    let credentials: AWSCredentials
    /// The region of calls that name none (the host's).
    let defaultRegion: String
    /// Where the endpoint settings are read (`AWS_ENDPOINT_URL_*`, ``AWSServiceEndpoint``).
    let environment: [String: String]
    let targetPrefix: String
    let contentType: String
    let httpClient: HTTPClient

    /// Largest answer read (a Kinesis GetRecords page is at most 10 MiB of data, base64 grows it).
    static let maximumResponse = 16 * 1_048_576

    /// Most pages one listing (Scan, ListShards, DescribeStream) is followed for: an endpoint that
    /// always names a next page must not keep the host reading, and collecting, forever.
    static let maximumPages = 100

    /// The error of a listing still not at its end after ``maximumPages``.
    static func endlessListing(_ service: String, _ operation: String) -> RemoteSourceError {
        RemoteSourceError(service: service, code: "EndlessListing", message: "\(operation) named a next page \(maximumPages) times")
    }

    public init(
        service: AWSServiceEndpoint, credentials: AWSCredentials, defaultRegion: String, environment: [String: String],
        targetPrefix: String, contentType: String, httpClient: HTTPClient = .shared
    ) {
        self.service = service
        self.credentials = credentials
        self.defaultRegion = defaultRegion
        self.environment = environment
        self.targetPrefix = targetPrefix
        self.contentType = contentType
        self.httpClient = httpClient
    }

    /// Calls `operation` with `parameters` in `region` (default: the host's); returns the JSON
    /// object answered (`{}` for an empty body).
    public func call(
        _ operation: String, _ parameters: [String: Any], region: String? = nil, timeout: TimeAmount = .seconds(30)
    ) async throws -> [String: Any] {
        let region = region ?? defaultRegion
        let endpoint = service.url(region: region, environment: environment)
        let signer = SigV4Signer(credentials: credentials, region: region, service: service.signingName)
        let body = try JSONSerialization.data(withJSONObject: parameters)
        guard let url = URL(string: endpoint + "/"), let host = url.host else {
            throw RemoteSourceError(service: signer.service, code: "InvalidEndpoint", message: "\(endpoint) is not a URL")
        }
        let authority = url.port.map { "\(host):\($0)" } ?? host
        var request = HTTPClientRequest(url: endpoint + "/")
        request.method = .POST
        let headers: [(name: String, value: String)] = [
            ("Host", authority), ("Content-Type", contentType), ("X-Amz-Target", targetPrefix + operation),
        ]
        let signed = signer.sign(
            method: "POST", path: url.path.isEmpty ? "/" : url.path + (url.path.hasSuffix("/") ? "" : "/"),
            headers: headers, payloadHash: SigV4Signer.payloadHash(of: body), date: Date())
        for (name, value) in headers + signed { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await httpClient.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: Self.maximumResponse)
        let object = bytes.readableBytes == 0
            ? [String: Any]()
            : (try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView))) as? [String: Any]
        guard (200..<300).contains(response.status.code) else {
            let type = (object?["__type"] as? String)?.split(separator: "#").last.map(String.init)
            throw RemoteSourceError(
                service: signer.service, code: type ?? "HTTP \(response.status.code)",
                message: (object?["message"] ?? object?["Message"]) as? String ?? "no message")
        }
        guard let object else {
            throw RemoteSourceError(service: signer.service, code: "InvalidResponse", message: "the answer is not a JSON object")
        }
        return object
    }
}
