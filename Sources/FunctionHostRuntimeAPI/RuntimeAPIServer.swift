import FunctionHostCore
import Foundation
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The Runtime API listener of one execution environment, on its own `127.0.0.1:0` socket:
/// the socket a request arrives on identifies the worker.
///
/// Requests are routed into the worker's ``RuntimeMailbox``; anything outside the protocol
/// gets a 4xx JSON error. ``stop()`` closes the mailbox and the listener.
public final class RuntimeAPIServer: Sendable {
    public let mailbox: RuntimeMailbox
    /// The bound port; the worker gets `AWS_LAMBDA_RUNTIME_API=127.0.0.1:<port>`.
    public let port: Int
    private let serverTask: Task<Void, Never>

    private init(mailbox: RuntimeMailbox, port: Int, serverTask: Task<Void, Never>) {
        self.mailbox = mailbox
        self.port = port
        self.serverTask = serverTask
    }

    /// Binds a new listener and returns once it accepts connections.
    public static func start(mailbox: RuntimeMailbox, logger: Logger) async throws -> RuntimeAPIServer {
        // Stopping a listener cancels its accept loop, which HummingbirdCore reports as an error: not one here.
        var serverLogger = logger
        serverLogger.logLevel = .critical
        let (bound, boundContinuation) = AsyncStream<Int>.makeStream()
        let server = try HTTPServerBuilder.http1().buildServer(
            configuration: ServerConfiguration(address: .hostname("127.0.0.1", port: 0)),
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: serverLogger,
            responder: { request, writer, _ in
                let response = await RuntimeAPIResponder(mailbox: mailbox).respond(to: request)
                try await writer.write(response: response.head, body: response.body)
            },
            onServerRunning: { channel in
                boundContinuation.yield(channel.localAddress?.port ?? 0)
                boundContinuation.finish()
            }
        )
        let task = Task {
            do {
                try await server.run()
            } catch {
                logger.error("runtime API listener failed", metadata: ["error": "\(error)"])
            }
            boundContinuation.finish()
        }
        var iterator = bound.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            task.cancel()
            throw RuntimeAPIServerError()
        }
        return RuntimeAPIServer(mailbox: mailbox, port: port, serverTask: task)
    }

    /// Answers every waiter and closes the listener.
    public func stop() async {
        mailbox.close()
        serverTask.cancel()
    }
}

/// The listener could not bind a loopback port.
struct RuntimeAPIServerError: Error, CustomStringConvertible {
    var description: String { "could not bind a Runtime API listener on 127.0.0.1" }
}

/// Turns one HTTP request from a function process into a mailbox call and an HTTP response.
struct RuntimeAPIResponder {
    let mailbox: RuntimeMailbox

    func respond(to request: Request) async -> Response {
        var request = request
        guard let call = RuntimeAPIRequest(method: request.method.rawValue, path: request.uri.path) else {
            _ = try? await request.collectBody(upTo: RuntimeMailbox.maximumResponseSize)
            return Self.error(.notFound)
        }
        do throws(RuntimeAPIError) {
            switch call {
            case .next:
                guard let delivery = try await mailbox.runtimeNext() else {
                    return Self.json(status: .internalServerError, #"{"errorMessage":"Internal Server Error","errorType":"InternalServerError"}"#)
                }
                return Self.event(delivery)
            case .response(let requestID):
                if let mode = request.headers[HTTPField.Name(RuntimeAPIHeader.responseMode)!], !mode.isEmpty,
                    mode != "streaming"
                {
                    _ = await Self.readBody(&request)
                    throw .invalidResponseMode
                }
                let body = await Self.readBody(&request)
                let contentType = request.headers[.contentType] ?? "application/json"
                try mailbox.runtimeResponse(requestID: requestID, payload: body, contentType: contentType)
            case .error(let requestID):
                let body = await Self.readBody(&request) ?? ByteBuffer()
                try mailbox.runtimeError(
                    requestID: requestID, payload: Self.errorPayload(body, request.headers),
                    errorType: request.headers[HTTPField.Name(RuntimeAPIHeader.errorType)!])
            case .initError:
                let body = await Self.readBody(&request) ?? ByteBuffer()
                try mailbox.runtimeInitError(
                    payload: Self.errorPayload(body, request.headers),
                    errorType: request.headers[HTTPField.Name(RuntimeAPIHeader.errorType)!])
            }
            return Self.json(status: .accepted, #"{"status":"OK"}"#)
        } catch {
            return Self.error(error)
        }
    }

    /// Reads the body; `nil` when it exceeds ``RuntimeMailbox/maximumResponseSize`` (it is drained all the same).
    static func readBody(_ request: inout Request) async -> ByteBuffer? {
        var collected = ByteBuffer()
        var tooLarge = false
        do {
            for try await part in request.body {
                guard !tooLarge else { continue }
                if collected.readableBytes + part.readableBytes > RuntimeMailbox.maximumResponseSize {
                    tooLarge = true
                    collected = ByteBuffer()
                } else {
                    var part = part
                    collected.writeBuffer(&part)
                }
            }
        } catch {
            return tooLarge ? nil : collected
        }
        return tooLarge ? nil : collected
    }

    /// `application/vnd.aws.lambda.error.cause+json` bodies lose their `errorCause` (X-Ray only), as RAPID does.
    static func errorPayload(_ body: ByteBuffer, _ headers: HTTPFields) -> ByteBuffer {
        guard headers[.contentType] == "application/vnd.aws.lambda.error.cause+json",
            var object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        else { return body }
        object["errorCause"] = nil
        guard let data = try? JSONSerialization.data(withJSONObject: object) else { return body }
        return ByteBuffer(bytes: data)
    }

    static func event(_ delivery: RuntimeMailbox.Delivery) -> Response {
        let request = delivery.request
        var headers = HTTPFields()
        headers.reserveCapacity(8)
        headers[.contentType] = "application/json"
        headers[HTTPField.Name(RuntimeAPIHeader.requestID)!] = request.requestID
        headers[HTTPField.Name(RuntimeAPIHeader.deadline)!] = String(delivery.deadlineEpochMilliseconds)
        headers[HTTPField.Name(RuntimeAPIHeader.functionARN)!] = request.invokedFunctionARN
        headers[HTTPField.Name(RuntimeAPIHeader.traceID)!] = request.traceID
        if let context = request.clientContext, !context.isEmpty {
            headers[HTTPField.Name(RuntimeAPIHeader.clientContext)!] = context
        }
        if let tenant = request.tenantID, !tenant.isEmpty {
            headers[HTTPField.Name(RuntimeAPIHeader.tenantID)!] = tenant
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: request.payload))
    }

    static func error(_ error: RuntimeAPIError) -> Response {
        json(
            status: HTTPResponse.Status(code: error.status),
            "{\"errorMessage\":\(JSONText.quote(error.errorMessage)),\"errorType\":\(JSONText.quote(error.errorType))}")
    }

    static func json(status: HTTPResponse.Status, _ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n")))
    }
}
