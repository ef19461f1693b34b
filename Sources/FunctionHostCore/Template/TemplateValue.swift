import Foundation
import Yams

/// A template value after YAML parsing: CloudFormation's short-form tags (`!Ref X`) are
/// rewritten to their long form (`{"Ref": "X"}`), so intrinsics are resolved in one place.
public indirect enum TemplateValue: Sendable, Hashable {
    case string(String)
    case list([TemplateValue])
    /// Keys keep their template order.
    case map([(String, TemplateValue)])
    case null

    public static func == (lhs: TemplateValue, rhs: TemplateValue) -> Bool {
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)): a == b
        case (.list(let a), .list(let b)): a == b
        case (.map(let a), .map(let b)): a.map(\.0) == b.map(\.0) && a.map(\.1) == b.map(\.1)
        case (.null, .null): true
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .string(let s): hasher.combine(s)
        case .list(let l): hasher.combine(l)
        case .map(let m): for (k, v) in m { hasher.combine(k); hasher.combine(v) }
        case .null: hasher.combine(0)
        }
    }

    public subscript(key: String) -> TemplateValue? {
        guard case .map(let entries) = self else { return nil }
        return entries.first { $0.0 == key }?.1
    }

    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var entries: [(String, TemplateValue)]? {
        if case .map(let entries) = self { return entries }
        return nil
    }

    /// Parses YAML (or JSON, a subset of YAML) into a value tree.
    public static func parse(yaml: String) throws -> TemplateValue {
        guard let node = try Yams.compose(yaml: yaml) else { return .null }
        return try TemplateValue(node: node)
    }

    init(node: Node) throws {
        let plain: TemplateValue
        switch node {
        case .scalar(let scalar):
            plain = node.tag.rawValue == "tag:yaml.org,2002:null" ? .null : .string(scalar.string)
        case .sequence(let sequence):
            plain = .list(try sequence.map { try TemplateValue(node: $0) })
        case .mapping(let mapping):
            plain = .map(try mapping.map { pair in
                guard let key = pair.key.string else { throw TemplateValue.ParseError.nonStringKey }
                return (key, try TemplateValue(node: pair.value))
            })
        case .alias:
            throw TemplateValue.ParseError.alias
        }
        let tag = node.tag.rawValue
        guard tag.hasPrefix("!"), tag.count > 1 else {
            self = plain
            return
        }
        let function = String(tag.dropFirst())
        switch function {
        case "Ref", "Condition":
            self = .map([(function, plain)])
        case "GetAtt":
            // `!GetAtt Resource.Attribute` is a dotted string in short form.
            if case .string(let dotted) = plain, let dot = dotted.firstIndex(of: ".") {
                self = .map([("Fn::GetAtt", .list([.string(String(dotted[..<dot])), .string(String(dotted[dotted.index(after: dot)...]))]))])
            } else {
                self = .map([("Fn::GetAtt", plain)])
            }
        default:
            self = .map([("Fn::\(function)", plain)])
        }
    }

    enum ParseError: Error, CustomStringConvertible {
        case nonStringKey, alias
        var description: String {
            switch self {
            case .nonStringKey: "mapping keys must be strings"
            case .alias: "YAML aliases are not supported in templates"
            }
        }
    }
}

extension TemplateValue {
    /// The names of the intrinsic functions used anywhere in this value (`Ref`, `Fn::ImportValue`, ...).
    func intrinsicNames() -> Set<String> {
        switch self {
        case .string, .null:
            return []
        case .list(let items):
            return items.reduce(into: []) { $0.formUnion($1.intrinsicNames()) }
        case .map(let entries):
            var names: Set<String> = []
            if entries.count == 1, let name = entries.first?.0, name == "Ref" || name.hasPrefix("Fn::") { names.insert(name) }
            for (_, value) in entries { names.formUnion(value.intrinsicNames()) }
            return names
        }
    }
}

extension TemplateValue {
    /// The logical ids this value reads attributes of: `Fn::GetAtt` targets and `${Resource.Attribute}` in `Fn::Sub`.
    func getAttTargets() -> Set<String> {
        switch self {
        case .string, .null:
            return []
        case .list(let items):
            return items.reduce(into: []) { $0.formUnion($1.getAttTargets()) }
        case .map(let entries):
            var targets: Set<String> = []
            if entries.count == 1, let (name, argument) = entries.first {
                if name == "Fn::GetAtt", case .list(let parts) = argument, let target = parts.first?.string {
                    targets.insert(target)
                } else if name == "Fn::GetAtt", let dotted = argument.string, let target = dotted.split(separator: ".").first {
                    targets.insert(String(target))
                } else if name == "Fn::Sub" {
                    let text: String? = argument.string ?? { if case .list(let parts) = argument { parts.first?.string } else { nil } }()
                    targets.formUnion(Self.substitutedAttributeTargets(text ?? ""))
                }
            }
            for (_, value) in entries { targets.formUnion(value.getAttTargets()) }
            return targets
        }
    }

    /// `Resource` of each `${Resource.Attribute}` in an `Fn::Sub` string (not `${AWS::…}` nor `${!Literal}`).
    private static func substitutedAttributeTargets(_ text: String) -> Set<String> {
        var targets: Set<String> = []
        var rest = text[...]
        while let open = rest.range(of: "${") {
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { break }
            let name = rest[open.upperBound..<close]
            if !name.hasPrefix("!"), !name.hasPrefix("AWS::"), let dot = name.firstIndex(of: ".") {
                targets.insert(String(name[..<dot]))
            }
            rest = rest[rest.index(after: close)...]
        }
        return targets
    }
}
