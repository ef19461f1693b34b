import Foundation
import NIOCore

extension LambdaRuntime {
    /// Serves invocations with a handler that takes and returns JSON, decoded to and encoded from Codable types.
    ///
    /// An event that does not decode is answered with `errorType` `Runtime.UnmarshalError` without calling the
    /// handler; a result that does not encode with `Runtime.MarshalError`. Results go out as `application/json`.
    public static func run<Event: Decodable, Output: Encodable>(
        handler: @Sendable (Event, LambdaContext) async throws -> Output
    ) async -> Never {
        await run(contentType: "application/json") { bytes, context in
            let event: Event
            do {
                event = try JSONDecoder().decode(Event.self, from: Data(bytes.readableBytesView))
            } catch {
                throw LambdaRuntimeError(
                    code: .unmarshal, message: "Unable to unmarshal input: \(summary(of: error))", underlying: error)
            }
            let output = try await handler(event, context)
            do {
                return ByteBuffer(bytes: try JSONEncoder().encode(output))
            } catch {
                throw LambdaRuntimeError(
                    code: .marshal, message: "Unable to marshal response: \(summary(of: error))", underlying: error)
            }
        }
    }

    /// One line for a coding error, instead of the nested dump its `description` gives.
    private static func summary(of error: any Error) -> String {
        switch error {
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
            DecodingError.keyNotFound(_, let context), DecodingError.dataCorrupted(let context):
            describe(context.debugDescription, at: context.codingPath)
        case EncodingError.invalidValue(_, let context):
            describe(context.debugDescription, at: context.codingPath)
        default:
            "\(error)"
        }
    }

    private static func describe(_ text: String, at path: [any CodingKey]) -> String {
        path.isEmpty ? text : "\(text) (at \(path.map(\.stringValue).joined(separator: ".")))"
    }
}
