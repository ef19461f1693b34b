import Foundation

/// Nested stacks: `AWS::Serverless::Application` (`Location`) and `AWS::CloudFormation::Stack`
/// (`TemplateURL`) whose template is a local file load recursively with their `Parameters`.
extension TemplateLoader {
    static let nestedStackTypes: Set<String> = ["AWS::Serverless::Application", "AWS::CloudFormation::Stack"]
    /// How deep stacks may nest (CloudFormation itself stops a runaway chain; so does this).
    static let maximumNestingDepth = 8

    /// Loads the child template, or returns `nil` with a warning when it is not local (an S3 or
    /// HTTPS URL, a Serverless Application Repository application).
    func loadNestedStack(
        _ logicalID: String, type: String, resource: TemplateValue, resolver: IntrinsicResolver, file: String,
        baseDirectory: String, scope: StackScope, warnings: inout [String]
    ) throws(TemplateError) -> Result? {
        let property = type == "AWS::CloudFormation::Stack" ? "TemplateURL" : "Location"
        func failure(_ property: String, _ message: String) -> TemplateError {
            TemplateError(file: file, resource: logicalID, property: property, message: message)
        }
        func resolved(_ name: String) throws(TemplateError) -> TemplateValue? {
            guard let value = resource["Properties"]?[name] else { return nil }
            do {
                return try resolver.resolve(value)
            } catch {
                throw failure(name, error.message)
            }
        }
        guard let location = try resolved(property) else { throw failure(property, "is missing") }
        guard let text = location.string else {
            warnings.append(
                "\(file): skipping nested application \(logicalID): it comes from the Serverless Application Repository; fnhost loads local templates only"
            )
            return nil
        }
        if ["https://", "http://", "s3://"].contains(where: text.hasPrefix) {
            warnings.append("\(file): skipping nested stack \(logicalID): \(text) is not a local template")
            return nil
        }
        guard scope.depth < Self.maximumNestingDepth else {
            throw failure(
                property, "stacks nest more than \(Self.maximumNestingDepth) deep (does a template include itself?)")
        }
        let path = URL(fileURLWithPath: text, relativeTo: URL(fileURLWithPath: baseDirectory, isDirectory: true))
            .standardizedFileURL.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw failure(property, "\(text) is not a template file (looked for \(path))")
        }
        var parameters: [String: String] = [:]
        for (name, value) in try resolved("Parameters")?.entries ?? [] {
            switch value {
            case .string(let text): parameters[name] = text
            case .list(let items): parameters[name] = items.compactMap(\.string).joined(separator: ",")
            default: throw failure("Parameters.\(name)", "must be a string or a list of strings")
            }
        }
        let child = StackScope(
            prefix: scope.prefix + logicalID + "/", name: "\(scope.name)-\(logicalID)", parameters: parameters,
            depth: scope.depth + 1)
        return try load(path: path, scope: child)
    }
}
