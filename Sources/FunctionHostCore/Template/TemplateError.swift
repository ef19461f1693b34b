/// A template that cannot be loaded: names the file, and where known the resource and property.
///
/// `description` is the one line `fnhost` prints before exiting with status 2.
public struct TemplateError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var resource: String?
    public var property: String?
    public var message: String

    public init(file: String, resource: String? = nil, property: String? = nil, message: String) {
        self.file = file
        self.resource = resource
        self.property = property
        self.message = message
    }

    public var description: String {
        var parts = [file]
        if let resource { parts.append("resource \(resource)") }
        if let property { parts.append("property \(property)") }
        return parts.joined(separator: ": ") + ": " + message
    }
}
