/// A failure talking to an external service: its error code (`__type` without the namespace, or
/// the HTTP status when it sent none) and message. Never carries credentials or signatures.
public struct RemoteSourceError: Error, Sendable, Hashable, CustomStringConvertible {
    public var service: String
    public var code: String
    public var message: String

    public init(service: String, code: String, message: String) {
        self.service = service
        self.code = code
        self.message = message
    }

    public var description: String { "\(service) \(code): \(message)" }
}
