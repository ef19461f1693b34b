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
    /// Largest request body read per operation: `PutRecords` carries at most 5 MiB of data and
    /// keys, which base64 and the JSON around 500 entries grow to under 8 MiB; `PutRecord` one
    /// record of 1 MiB (1.4 MB in base64); every other request is small. More is refused before
    /// it is parsed.
    static func maximumRequestBody(_ operation: KinesisOperation) -> Int {
        switch operation {
        case .putRecords: 8 * 1_048_576
        case .putRecord: 1_572_864
        default: 65_536
        }
    }

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
            // A body that breaks off or is badly framed is the client's fault, not the host's.
            let limit = Self.maximumRequestBody(operation)
            let outcome = try? await BoundedBody.read(request.body, declaredLength: declared, limit: limit)
            guard case .complete(let bytes)? = outcome else {
                // Not read to its end: answered, then the connection closes so the rest is never drained.
                var response = Self.errorResponse(
                    outcome == nil
                        ? StreamError(.serialization, "The request body could not be read.")
                        : StreamError(.invalidArgument, "The request body is larger than \(limit) bytes."),
                    requestID: requestID)
                response.headers[.connection] = "close"
                return response
            }
            if operation == .putRecords {
                let decoded: PutRecordsRequest
                do {
                    decoded = try JSONDecoder().decode(PutRecordsRequest.self, from: Data(bytes.readableBytesView))
                } catch {
                    throw StreamError(.serialization, "The request body is not a PutRecords request: \(Self.reason(error))")
                }
                return Self.response(.ok, try await putRecords(decoded), requestID: requestID)
            }
            let object: Any =
                bytes.readableBytes == 0
                ? [String: Any]() : try JSONSerialization.jsonObject(with: Data(bytes.readableBytesView))
            guard let parameters = object as? [String: Any] else {
                throw StreamError(.serialization, "The request body is not a JSON object.")
            }
            let call = KinesisCall(parameters: parameters, account: engine.account)
            if operation == .getRecords {
                return Self.response(.ok, text: try await getRecords(call), requestID: requestID)
            }
            return Self.response(.ok, try await perform(operation, call), requestID: requestID)
        } catch let error as StreamError {
            return Self.errorResponse(error, requestID: requestID)
        } catch let error as NSError where error.domain == NSCocoaErrorDomain {
            return Self.errorResponse(
                StreamError(.serialization, "The request body is not valid JSON."), requestID: requestID)
        } catch {
            return Self.errorResponse(StreamError(.internalFailure, "\(error)"), requestID: requestID)
        }
    }

    /// A decoding error in a few words (which member, of what type), never the whole body.
    static func reason(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?, .dataCorrupted(let context)?:
            let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            return path.isEmpty ? "not valid JSON" : "\(path) has the wrong type"
        default:
            return "not valid JSON"
        }
    }

    static func response(_ status: HTTPResponse.Status, _ object: [String: Any], requestID: String) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data("{}".utf8)
        return response(status, body: ByteBuffer(bytes: data), requestID: requestID)
    }

    static func response(_ status: HTTPResponse.Status, text: String, requestID: String) -> Response {
        response(status, body: ByteBuffer(string: text), requestID: requestID)
    }

    static func response(_ status: HTTPResponse.Status, body: ByteBuffer, requestID: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.amznRequestID] = requestID
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: body))
    }

    static func errorResponse(_ error: StreamError, requestID: String) -> Response {
        response(
            error.code == .internalFailure ? .internalServerError : .badRequest,
            ["__type": error.code.rawValue, "message": error.message], requestID: requestID)
    }
}
