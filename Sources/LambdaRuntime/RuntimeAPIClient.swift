import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// The Runtime API as the loop sees it: the seam where a test can stand in for HTTP.
protocol RuntimeAPIClientProtocol: Sendable {
    /// Long-polls `GET /next` with no time limit.
    ///
    /// - Throws: ``LambdaRuntimeError`` when the exchange fails, the status is not 200, or a header is missing.
    func nextInvocation() async throws(LambdaRuntimeError) -> Invocation

    /// Posts a result or an error.
    ///
    /// - Throws: ``LambdaRuntimeError/Code/unexpectedStatus`` when the host refuses it (not 202).
    func post(_ report: RuntimeAPIReport) async throws(LambdaRuntimeError)
}

/// Talks to the Runtime API over a single keep-alive HTTP/1.1 connection.
struct RuntimeAPIClient: RuntimeAPIClientProtocol {
    /// Lambda caps events at 6 MiB + 100 B; the headroom is for a host that does not.
    static let maximumEventSize = 16 * 1024 * 1024
    /// Bodies of `202 {"status":"OK"}` and of the host's error answers are small.
    static let maximumReplySize = 64 * 1024
    /// A post to a local host that takes longer than this is a host that is stuck.
    static let postTimeout = TimeAmount.seconds(60)

    private let http: HTTPClient
    private let baseURL: String

    private init(address: String) {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            // No read timeout: `/next` blocks for as long as no event arrives.
            timeout: .init(connect: .seconds(10), read: nil),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 1),
            decompression: .disabled
        )
        configuration.httpVersion = .http1Only
        self.http = HTTPClient(configuration: configuration)
        self.baseURL = "http://\(address)"
    }

    /// Runs `body` with a client for `address` (`host:port`) and shuts the client down however `body` ends.
    static func withClient<Value, Failure: Error>(
        address: String,
        _ body: (RuntimeAPIClient) async throws(Failure) -> Value
    ) async throws(Failure) -> Value {
        let client = RuntimeAPIClient(address: address)
        let outcome: Result<Value, Failure>
        do throws(Failure) {
            outcome = .success(try await body(client))
        } catch {
            outcome = .failure(error)
        }
        try? await client.http.shutdown()
        return try outcome.get()
    }

    func nextInvocation() async throws(LambdaRuntimeError) -> Invocation {
        let request = HTTPClientRequest(url: baseURL + RuntimeAPI.Path.next)
        let (status, headers, body) = try await execute(
            request, path: RuntimeAPI.Path.next, deadline: .distantFuture, bodyLimit: Self.maximumEventSize)
        guard status == .ok else {
            throw Self.refused(status, body, path: RuntimeAPI.Path.next)
        }
        return try Invocation(headers: headers, event: body)
    }

    func post(_ report: RuntimeAPIReport) async throws(LambdaRuntimeError) {
        let path: String
        var headers = HTTPHeaders()
        let body: ByteBuffer
        switch report {
        case .response(let invocation, let output, let contentType):
            path = RuntimeAPI.Path.response(requestID: invocation.requestID)
            if let contentType { headers.add(name: "Content-Type", value: contentType) }
            if let id = invocation.invocationID { headers.add(name: RuntimeAPI.Header.invocationID, value: id) }
            body = output
        case .error(let invocation, let error):
            path = RuntimeAPI.Path.error(requestID: invocation.requestID)
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: RuntimeAPI.Header.functionErrorType, value: error.headerValue)
            if let id = invocation.invocationID { headers.add(name: RuntimeAPI.Header.invocationID, value: id) }
            body = error.jsonBody()
        case .initError(let error):
            path = RuntimeAPI.Path.initError
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: RuntimeAPI.Header.functionErrorType, value: error.headerValue)
            body = error.jsonBody()
        }
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .POST
        request.headers = headers
        request.body = .bytes(body)
        let (status, _, reply) = try await execute(
            request, path: path, deadline: .now() + Self.postTimeout, bodyLimit: Self.maximumReplySize)
        guard status == .accepted else {
            throw Self.refused(status, reply, path: path)
        }
    }

    /// Sends `request` and reads the whole answer; reading it to the end is what returns the connection to the pool.
    private func execute(
        _ request: HTTPClientRequest, path: String, deadline: NIODeadline, bodyLimit: Int
    ) async throws(LambdaRuntimeError) -> (HTTPResponseStatus, HTTPHeaders, ByteBuffer) {
        do {
            let response = try await http.execute(request, deadline: deadline)
            let body = try await response.body.collect(upTo: bodyLimit)
            return (response.status, response.headers, body)
        } catch {
            throw LambdaRuntimeError(
                code: .connectionFailed, message: "\(request.method) \(path) failed", underlying: error)
        }
    }

    private static func refused(_ status: HTTPResponseStatus, _ body: ByteBuffer, path: String) -> LambdaRuntimeError {
        LambdaRuntimeError(
            code: .unexpectedStatus,
            message: "\(path) answered \(status.code): \(String(buffer: body).trimmingSuffixNewlines())")
    }
}

extension String {
    fileprivate func trimmingSuffixNewlines() -> String {
        var text = self[...]
        while text.last?.isNewline == true { text = text.dropLast() }
        return String(text)
    }
}
