import FunctionHostCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The Kinesis JSON protocol (`POST /`, `X-Amz-Target: Kinesis_20131202.<Op>`,
/// `application/x-amz-json-1.1`) over a ``StreamEngine``: the one place where ``StreamError``
/// becomes Kinesis's wire error shape (`{"__type": "<Code>", "message": "..."}`, 400, or 500
/// for `InternalFailure`).
public struct KinesisEndpoint: Sendable {
    let engine: StreamEngine

    public init(engine: StreamEngine) {
        self.engine = engine
    }

    static let contentType = "application/x-amz-json-1.1"
    /// Largest request body read: `PutRecords` carries at most 5 MiB of data and keys, which
    /// base64 and the JSON around 500 entries grow to under 8 MiB.
    static let maximumRequestBody = 8 * 1_048_576

    /// Whether a request is for this endpoint (its target names the Kinesis API).
    public static func accepts(_ request: Request) -> Bool {
        request.headers[.amzTarget]?.hasPrefix(KinesisOperation.targetPrefix) ?? false
    }

    /// Answers one request; never throws (every failure is a Kinesis error answer).
    public func handle(_ request: Request) async -> Response {
        let requestID = UUID().uuidString.lowercased()
        do {
            let operation = try KinesisOperation.parse(target: request.headers[.amzTarget] ?? "")
            let declared = request.headers[.contentLength].flatMap { Int($0) }
            guard
                case .complete(let bytes) = try await BoundedBody.read(
                    request.body, declaredLength: declared, limit: Self.maximumRequestBody)
            else {
                // Not read to its end: answered, then the connection closes so the rest is never drained.
                var response = Self.errorResponse(
                    StreamError(.invalidArgument, "The request body is larger than \(Self.maximumRequestBody) bytes."),
                    requestID: requestID)
                response.headers[.connection] = "close"
                return response
            }
            let object: Any =
                bytes.readableBytes == 0
                ? [String: Any]() : try JSONSerialization.jsonObject(with: Data(bytes.readableBytesView))
            guard let parameters = object as? [String: Any] else {
                throw StreamError(.serialization, "The request body is not a JSON object.")
            }
            let answer = try await perform(operation, KinesisCall(parameters: parameters, account: engine.account))
            return Self.response(.ok, answer, requestID: requestID)
        } catch let error as StreamError {
            return Self.errorResponse(error, requestID: requestID)
        } catch let error as NSError where error.domain == NSCocoaErrorDomain {
            return Self.errorResponse(
                StreamError(.serialization, "The request body is not valid JSON."), requestID: requestID)
        } catch {
            return Self.errorResponse(StreamError(.internalFailure, "\(error)"), requestID: requestID)
        }
    }

    static func response(_ status: HTTPResponse.Status, _ object: [String: Any], requestID: String) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.amznRequestID] = requestID
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func errorResponse(_ error: StreamError, requestID: String) -> Response {
        response(
            error.code == .internalFailure ? .internalServerError : .badRequest,
            ["__type": error.code.rawValue, "message": error.message], requestID: requestID)
    }
}
