import Foundation
import NIOCore

/// The JSON body of `/error` and `/init/error`: `{"errorMessage": …, "errorType": …, "stackTrace": []}`.
struct ErrorResponse: Encodable, Hashable, Sendable {
    var errorMessage: String
    var errorType: String
    var stackTrace: [String] = []

    /// A runtime error keeps its `Runtime.*` type and message; any other error is named after its Swift type.
    init(_ error: any Error) {
        if let error = error as? LambdaRuntimeError {
            self.errorMessage = error.message
            self.errorType = error.code.errorType
        } else {
            self.errorMessage = "\(error)"
            self.errorType = String(describing: type(of: error))
        }
    }

    /// The `Lambda-Runtime-Function-Error-Type` value: `Category.Reason`, with `Function.` for errors of the handler.
    var headerValue: String {
        errorType.hasPrefix("Runtime.") || errorType.hasPrefix("Function.") ? errorType : "Function.\(errorType)"
    }

    /// Compact JSON with keys in a stable order.
    func jsonBody() -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding two strings and an empty array cannot fail.
        let data = (try? encoder.encode(self)) ?? Data(#"{"errorMessage":"","errorType":"Runtime.Unknown"}"#.utf8)
        return ByteBuffer(bytes: data)
    }
}
