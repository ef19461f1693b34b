import Foundation
import NIOCore

/// The error JSON a caller receives when the platform, not the function code, ends an
/// invocation: timeouts, runtime exits, oversized responses.
///
/// Keys are written in the order Lambda writes them: `errorType`, then `errorMessage`.
public struct FunctionErrorPayload: Sendable, Hashable {
    public var errorType: String
    public var errorMessage: String

    public init(errorType: String, errorMessage: String) {
        self.errorType = errorType
        self.errorMessage = errorMessage
    }

    public var json: String {
        "{\"errorType\":\(JSONText.quote(errorType)),\"errorMessage\":\(JSONText.quote(errorMessage))}"
    }

    public var buffer: ByteBuffer { ByteBuffer(string: json) }

    /// `Sandbox.Timedout`, as real Lambda answers a timeout.
    public static func timeout(requestID: String, seconds: Int) -> Self {
        Self(
            errorType: "Sandbox.Timedout",
            errorMessage: "RequestId: \(requestID) Error: Task timed out after \(LambdaLogFormat.seconds(seconds)) seconds")
    }

    /// `Runtime.ExitError`: the runtime process ended while it held an invocation.
    public static func exited(requestID: String, reason: ExitReason) -> Self {
        Self(errorType: reason.errorType, errorMessage: "RequestId: \(requestID) Error: \(reason.message)")
    }

    /// `Runtime.TruncatedResponse`: the runtime's connection closed in the middle of its answer's body
    /// (RAPID marks such a stream `End-Of-Response: Truncated`); what arrived is not the result.
    public static func truncatedResponse(requestID: String) -> Self {
        Self(
            errorType: "Runtime.TruncatedResponse",
            errorMessage: "RequestId: \(requestID) Error: the runtime closed its connection before its response was complete")
    }

    /// `Runtime.LayerUnavailable`: `Layers` names published layers the host cannot fetch, so the
    /// function never starts (fnhost's own error type; deployed, Lambda would have the layer).
    public static func unavailableLayers(_ arns: [String]) -> Self {
        Self(
            errorType: "Runtime.LayerUnavailable",
            errorMessage:
                "fnhost cannot fetch the published layer \(arns.joined(separator: ", ")); give Layers a local directory or .zip instead")
    }

    /// `Function.ResponseSizeTooLarge`: the runtime posted more than 6 MiB + 100 bytes.
    public static let responseTooLarge = Self(
        errorType: "Function.ResponseSizeTooLarge",
        errorMessage: "Response payload size exceeded maximum allowed payload size (6291556 bytes).")
}

/// How a worker process ended, worded as Lambda words it.
public enum ExitReason: Sendable, Hashable {
    case exited(status: Int32)
    case signaled(Int32)
    case outOfMemory

    public var errorType: String {
        self == .outOfMemory ? "Runtime.OutOfMemory" : "Runtime.ExitError"
    }

    public var message: String {
        switch self {
        case .exited(0): "Runtime exited without providing a reason"
        case .exited(let status): "Runtime exited with error: exit status \(status)"
        case .signaled(let signal): "Runtime exited with error: signal: \(Self.signalName(signal))"
        case .outOfMemory: "Runtime exited with error: signal: killed"
        }
    }

    /// Go's names for signals (Lambda's platform is written in Go): `killed`, `segmentation fault`.
    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case 1: "hangup"
        case 2: "interrupt"
        case 3: "quit"
        case 4: "illegal instruction"
        case 5: "trace/breakpoint trap"
        case 6: "aborted"
        case 7: "bus error"
        case 8: "floating point exception"
        case 9: "killed"
        case 10: "user defined signal 1"
        case 11: "segmentation fault"
        case 12: "user defined signal 2"
        case 13: "broken pipe"
        case 14: "alarm clock"
        case 15: "terminated"
        default: "signal \(signal)"
        }
    }
}

/// Minimal JSON text helpers for the few payloads the host writes by hand (to keep key order).
public enum JSONText {
    public static func quote(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
