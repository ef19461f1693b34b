import Foundation

/// Evaluates CloudFormation intrinsic functions (`Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`,
/// `Fn::Select`, `Fn::Split`, `Fn::FindInMap`, `Fn::If`, `Fn::Base64`, and with placeholders
/// `Fn::ImportValue` and `Fn::GetAZs`) against parameters, pseudo parameters, mappings,
/// conditions and resources.
///
/// Throws ``IntrinsicResolver/Failure`` with a message naming what could not be resolved;
/// the loader adds the file, resource and property.
struct IntrinsicResolver {
    /// `Ref` values: parameters, pseudo parameters and resource logical ids.
    var references: [String: TemplateValue]
    /// `Fn::GetAtt` values by logical id, then attribute (`Outputs.X` for a nested stack).
    var attributes: [String: [String: String]]
    /// The template's `Mappings`: map name → top-level key → second-level key → value.
    var mappings: TemplateValue = .map([])
    /// The template's `Conditions`, evaluated (see ``evaluateConditions(_:)``).
    var conditions: [String: Bool] = [:]
    /// Parameters without a `Default` and without a given value: an error only where a `Ref` needs one.
    var missingParameters: Set<String> = []
    /// The region `Fn::GetAZs` answers for.
    var region = "us-east-1"
    /// Resources fnhost does not simulate, by logical id, with their type: `Fn::GetAtt` of one gets a placeholder.
    var unsimulated: [String: String] = [:]
    var accountID = "123456789012"

    struct Failure: Error {
        var message: String
    }

    /// Intrinsics answered with a placeholder rather than a real value; the loader warns where they appear.
    static let placeholderFunctions: Set<String> = ["Fn::ImportValue", "Fn::GetAZs"]

    func resolve(_ value: TemplateValue) throws(Failure) -> TemplateValue {
        switch value {
        case .string, .null:
            return value
        case .list(let items):
            var resolved: [TemplateValue] = []
            for item in items {
                let element = try resolve(item)
                if element != Self.noValue { resolved.append(element) }
            }
            return .list(resolved)
        case .map(let entries):
            if entries.count == 1, let (name, argument) = entries.first,
                name == "Ref" || name.hasPrefix("Fn::")
            {
                return try evaluate(name, argument)
            }
            var resolved: [(String, TemplateValue)] = []
            for (key, item) in entries {
                let element = try resolve(item)
                if element != Self.noValue { resolved.append((key, element)) }
            }
            return .map(resolved)
        }
    }

    /// `Ref: AWS::NoValue` removes the property or list element that holds it.
    static let noValue = TemplateValue.map([("AWS::NoValue", .null)])

    private func evaluate(_ name: String, _ argument: TemplateValue) throws(Failure) -> TemplateValue {
        switch name {
        case "Ref":
            guard let target = argument.string else { throw Failure(message: "Ref takes a name") }
            if target == "AWS::NoValue" { return Self.noValue }
            if missingParameters.contains(target) {
                throw Failure(
                    message: "parameter \(target) has no Default and no value was given (--parameter \(target)=VALUE)")
            }
            guard let value = references[target] else {
                throw Failure(message: "Ref to \(target), which is neither a parameter nor a resource")
            }
            return value
        case "Fn::GetAtt":
            let parts: [String]
            switch argument {
            case .string(let dotted): parts = dotted.split(separator: ".", maxSplits: 1).map(String.init)
            case .list(let items): parts = try items.map { item throws(Failure) in try resolveString(item, in: name) }
            default: parts = []
            }
            guard parts.count == 2 else { throw Failure(message: "Fn::GetAtt takes [Resource, Attribute]") }
            guard let resource = attributes[parts[0]] else {
                if let type = unsimulated[parts[0]] { return .string(placeholder(parts[0], type: type, attribute: parts[1])) }
                throw Failure(message: "Fn::GetAtt of unknown resource \(parts[0])")
            }
            guard let attribute = resource[parts[1]] else {
                throw Failure(message: "Fn::GetAtt: resource \(parts[0]) has no attribute \(parts[1])")
            }
            return .string(attribute)
        case "Fn::Sub":
            return .string(try substitute(argument))
        case "Fn::Join":
            guard case .list(let items) = argument, items.count == 2, let delimiter = items[0].string else {
                throw Failure(message: "Fn::Join takes [delimiter, [values]]")
            }
            guard case .list(let values) = try resolve(items[1]) else {
                throw Failure(message: "Fn::Join's second argument must be a list")
            }
            return .string(try values.map { value throws(Failure) in try resolveString(value, in: name) }.joined(separator: delimiter))
        case "Fn::Select":
            guard case .list(let items) = argument, items.count == 2,
                let index = Int(try resolveString(items[0], in: name)),
                case .list(let values) = try resolve(items[1])
            else { throw Failure(message: "Fn::Select takes [index, [values]]") }
            guard values.indices.contains(index) else { throw Failure(message: "Fn::Select index \(index) is out of range") }
            return values[index]
        case "Fn::Split":
            guard case .list(let items) = argument, items.count == 2, let delimiter = items[0].string, !delimiter.isEmpty else {
                throw Failure(message: "Fn::Split takes [delimiter, string]")
            }
            let source = try resolveString(items[1], in: name)
            return .list(source.split(separator: delimiter, omittingEmptySubsequences: false).map { .string(String($0)) })
        case "Fn::FindInMap":
            return try findInMap(argument)
        case "Fn::If":
            guard case .list(let items) = argument, items.count == 3, let condition = items[0].string else {
                throw Failure(message: "Fn::If takes [condition, value if true, value if false]")
            }
            guard let truth = conditions[condition] else {
                throw Failure(message: "Fn::If: condition \(condition) is not defined in Conditions")
            }
            return try resolve(truth ? items[1] : items[2])
        case "Fn::Base64":
            return .string(Data(try resolveString(argument, in: name).utf8).base64EncodedString())
        case "Fn::ImportValue":
            // Another stack's export: the export name stands in for its value (the loader warns).
            return .string(try resolveString(argument, in: name))
        case "Fn::GetAZs":
            return .list(["a", "b", "c"].map { .string(region + $0) })
        default:
            throw Failure(message: "intrinsic function \(name) is not supported by fnhost")
        }
    }

    /// What `Fn::GetAtt` of a resource fnhost does not simulate answers: an ARN of the resource's
    /// service for `…Arn` attributes (`arn:aws:dynamodb:REGION:ACCOUNT:Table`), else `Resource.Attribute`.
    func placeholder(_ logicalID: String, type: String, attribute: String) -> String {
        let parts = type.components(separatedBy: "::")
        guard attribute.hasSuffix("Arn"), parts.count == 3 else { return "\(logicalID).\(attribute)" }
        return "arn:aws:\(parts[1].lowercased()):\(region):\(accountID):\(logicalID)"
    }

    /// `Fn::FindInMap: [Map, TopKey, SecondKey]`, with the optional `{DefaultValue: v}` fourth argument.
    private func findInMap(_ argument: TemplateValue) throws(Failure) -> TemplateValue {
        guard case .list(let items) = argument, items.count == 3 || items.count == 4 else {
            throw Failure(message: "Fn::FindInMap takes [MapName, TopLevelKey, SecondLevelKey]")
        }
        var keys: [String] = []
        for item in items.prefix(3) { keys.append(try resolveString(item, in: "Fn::FindInMap")) }
        if let value = mappings[keys[0]]?[keys[1]]?[keys[2]] { return try resolve(value) }
        if items.count == 4, let fallback = items[3]["DefaultValue"] { return try resolve(fallback) }
        guard let map = mappings[keys[0]] else { throw Failure(message: "Fn::FindInMap: no mapping \(keys[0]) in Mappings") }
        guard map[keys[1]] != nil else { throw Failure(message: "Fn::FindInMap: mapping \(keys[0]) has no key \(keys[1])") }
        throw Failure(message: "Fn::FindInMap: mapping \(keys[0]).\(keys[1]) has no key \(keys[2])")
    }

    private func resolveString(_ value: TemplateValue, in function: String) throws(Failure) -> String {
        guard let string = try resolve(value).string else {
            throw Failure(message: "\(function) needs a string here")
        }
        return string
    }

    /// `Fn::Sub`: `${Name}` and `${Resource.Attribute}`; `${!Literal}` stays `${Literal}`.
    private func substitute(_ argument: TemplateValue) throws(Failure) -> String {
        var variables: [String: String] = [:]
        let template: String
        switch argument {
        case .string(let text):
            template = text
        case .list(let items) where items.count == 2:
            guard let text = items[0].string, let entries = items[1].entries else {
                throw Failure(message: "Fn::Sub takes a string or [string, {variables}]")
            }
            template = text
            for (key, value) in entries { variables[key] = try resolveString(value, in: "Fn::Sub") }
        default:
            throw Failure(message: "Fn::Sub takes a string or [string, {variables}]")
        }
        var output = ""
        var rest = template[...]
        while let open = rest.range(of: "${") {
            output += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else {
                throw Failure(message: "Fn::Sub: unterminated ${ in \"\(template)\"")
            }
            let name = String(rest[open.upperBound..<close])
            rest = rest[rest.index(after: close)...]
            if name.hasPrefix("!") {
                output += "${\(name.dropFirst())}"
            } else if let value = variables[name] {
                output += value
            } else if name.contains("."), !name.hasPrefix("AWS::") {
                let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
                output += try resolveString(.map([("Fn::GetAtt", .list(parts.map { .string($0) }))]), in: "Fn::Sub")
            } else {
                output += try resolveString(.map([("Ref", .string(name))]), in: "Fn::Sub")
            }
        }
        return output + rest
    }
}
