import Glibc

/// Paths of the Runtime API (version `2018-06-01`).
enum RuntimeAPIPath {
    static let prefix: StaticString = "/2018-06-01/runtime/"
    static let next: StaticString = "invocation/next"
    static let initError: StaticString = "init/error"
    static let invocation: StaticString = "invocation/"
    static let response: StaticString = "/response"
    static let error: StaticString = "/error"
}

/// Header names of the Runtime API.
enum RuntimeAPIHeader {
    static let requestID = "Lambda-Runtime-Aws-Request-Id"
    static let deadline = "Lambda-Runtime-Deadline-Ms"
    static let functionARN = "Lambda-Runtime-Invoked-Function-Arn"
    static let traceID = "Lambda-Runtime-Trace-Id"
    static let clientContext = "Lambda-Runtime-Client-Context"
    static let tenantID = "Lambda-Runtime-Aws-Tenant-Id"
}

/// A request from a function process, parsed from method and path.
enum RuntimeAPIRequest: Equatable {
    case next
    case response(requestID: String)
    case error(requestID: String)
    case initError

    /// `nil` for a method and path the Runtime API does not serve. From the request line's bytes:
    /// two of these are read on every invoke.
    init?(method: UnsafeRawBufferPointer, path: UnsafeRawBufferPointer) {
        var path = path
        if let query = path.firstIndex(of: UInt8(ascii: "?")) { path = UnsafeRawBufferPointer(rebasing: path[..<query]) }
        guard path.starts(with: RuntimeAPIPath.prefix) else { return nil }
        let rest = UnsafeRawBufferPointer(rebasing: path[RuntimeAPIPath.prefix.utf8CodeUnitCount...])
        if method.equals("GET") {
            guard rest.equals(RuntimeAPIPath.next) else { return nil }
            self = .next
        } else if method.equals("POST") {
            if rest.equals(RuntimeAPIPath.initError) {
                self = .initError
            } else if rest.starts(with: RuntimeAPIPath.invocation) {
                let tail = UnsafeRawBufferPointer(rebasing: rest[RuntimeAPIPath.invocation.utf8CodeUnitCount...])
                if let requestID = Self.dropping(RuntimeAPIPath.response, from: tail) {
                    self = .response(requestID: requestID)
                } else if let requestID = Self.dropping(RuntimeAPIPath.error, from: tail) {
                    self = .error(requestID: requestID)
                } else {
                    return nil
                }
            } else {
                return nil
            }
        } else {
            return nil
        }
    }

    /// `text` without its `suffix`, or `nil` when it does not end with it.
    private static func dropping(_ suffix: StaticString, from text: UnsafeRawBufferPointer) -> String? {
        let count = suffix.utf8CodeUnitCount
        guard text.count >= count, UnsafeRawBufferPointer(rebasing: text[(text.count - count)...]).equals(suffix) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(rebasing: text[..<(text.count - count)]), as: UTF8.self)
    }
}

extension UnsafeRawBufferPointer {
    /// True when these bytes are `text`'s.
    func equals(_ text: StaticString) -> Bool {
        count == text.utf8CodeUnitCount && (count == 0 || memcmp(baseAddress!, text.utf8Start, count) == 0)
    }

    /// True when these bytes begin with `text`'s.
    func starts(with text: StaticString) -> Bool {
        count >= text.utf8CodeUnitCount && UnsafeRawBufferPointer(rebasing: self[..<text.utf8CodeUnitCount]).equals(text)
    }
}

public struct RuntimeAPIError: Error, Sendable, Hashable {
    public var status: Int
    public var errorType: String
    public var errorMessage: String

    static let invalidRequestID = Self(status: 400, errorType: "InvalidRequestID", errorMessage: "Invalid request ID")
    static let invalidResponseMode = Self(
        status: 400, errorType: "InvalidFunctionResponseMode", errorMessage: "Invalid function response mode")
    static let tooLarge = Self(
        status: 413, errorType: "RequestEntityTooLarge",
        errorMessage: "Exceeded maximum allowed payload size (6291556 bytes).")
    static let notFound = Self(status: 404, errorType: "NotFound", errorMessage: "Not Found")
    /// A `/next` to an environment the host has shut down: the runtime is about to be killed.
    static let environmentClosed = invalidTransition(from: "Closed", to: "Ready")
    /// A request the HTTP parser could not read (headers over the limit, bad syntax).
    static let malformedRequest = Self(status: 400, errorType: "InvalidRequest", errorMessage: "Malformed HTTP request")

    static func invalidTransition(from current: String, to target: String) -> Self {
        Self(
            status: 403, errorType: "InvalidStateTransition",
            errorMessage: "State transition from \(current) to \(target) failed for runtime. Error: State transition is not allowed")
    }
}
