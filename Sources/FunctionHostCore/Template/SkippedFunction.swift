/// A function of the template that fnhost cannot run and did not load (a container image, an
/// unsupported runtime, code only in S3, a duplicate `FunctionName`).
///
/// The other functions load and run; `fnhost list` shows it, `fnhost validate --strict` fails on it.
public struct SkippedFunction: Sendable, Hashable {
    /// Its address: the logical id, `Child/LogicalId` in a nested stack.
    public var name: String
    /// Why it was skipped, for a warning line.
    public var reason: String

    public init(name: String, reason: String) {
        self.name = name
        self.reason = reason
    }
}
