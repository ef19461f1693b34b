import Foundation

/// Evaluates CloudFormation intrinsic functions (`Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`,
/// `Fn::Select`, `Fn::Split`) against parameters, pseudo parameters and resources.
///
/// Throws ``IntrinsicResolver/Failure`` with a message naming what could not be resolved;
/// the loader adds the file, resource and property.
struct IntrinsicResolver {
    /// `Ref` values: parameters, pseudo parameters and resource logical ids.
    var references: [String: TemplateValue]
    /// `Fn::GetAtt` values by logical id, then attribute.
    var attributes: [String: [String: String]]

    struct Failure: Error {
        var message: String
    }

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
        default:
            throw Failure(message: "intrinsic function \(name) is not supported by fnhost")
        }
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
