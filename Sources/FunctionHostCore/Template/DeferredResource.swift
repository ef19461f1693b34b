/// A resource the loader accepts but leaves to a later parser: `AWS::Lambda::EventInvokeConfig`,
/// `AWS::Lambda::Version` and `AWS::Lambda::Alias`.
///
/// Its properties are resolved (intrinsics evaluated, `!Ref Function` giving the function's
/// name) when they can be; when they cannot, ``resolutionFailure`` says why and ``properties``
/// holds them as written, so the parser that owns the type decides whether that matters.
public struct DeferredResource: Sendable, Hashable {
    /// The logical id, `Child/LogicalId` in a nested stack.
    public var logicalID: String
    public var type: String
    public var properties: TemplateValue
    public var resolutionFailure: String?
    /// The template file that declares it, for error messages.
    public var file: String
}
