import Crypto
import Foundation

/// What `Ref` and `Fn::GetAtt` answer in one template: pseudo parameters, parameters, mappings,
/// conditions, resources and `Outputs`.
extension TemplateLoader {
    func makeResolver(root: TemplateValue, file: String, scope: StackScope) throws(TemplateError) -> IntrinsicResolver {
        let stackID =
            "arn:aws:cloudformation:\(account.region):\(account.accountID):stack/\(scope.name)/\(Self.stackUUID(scope.name))"
        var references: [String: TemplateValue] = [
            "AWS::Region": .string(account.region),
            "AWS::AccountId": .string(account.accountID),
            "AWS::StackName": .string(scope.name),
            "AWS::StackId": .string(stackID),
            "AWS::Partition": .string("aws"),
            "AWS::URLSuffix": .string("amazonaws.com"),
            "AWS::NotificationARNs": .list([]),
        ]
        var missing: Set<String> = []
        for (name, parameter) in root["Parameters"]?.entries ?? [] {
            if let value = scope.parameters[name] ?? parameter["Default"]?.string {
                let isList =
                    parameter["Type"]?.string.map { $0.hasPrefix("List<") || $0 == "CommaDelimitedList" } ?? false
                references[name] =
                    isList
                    ? .list(value.split(separator: ",").map { .string($0.trimmingCharacters(in: .whitespaces)) })
                    : .string(value)
            } else if let list = parameter["Default"], case .list = list {
                references[name] = list
            } else {
                missing.insert(name)
            }
        }
        var resolver = IntrinsicResolver(references: references, attributes: [:])
        resolver.missingParameters = missing
        resolver.region = account.region
        resolver.accountID = account.accountID
        resolver.mappings = root["Mappings"] ?? .map([])
        do {
            try resolver.evaluateConditions(root["Conditions"]?.entries ?? [])
        } catch {
            throw TemplateError(file: file, resource: "Conditions", message: error.message)
        }
        return resolver
    }

    /// `Ref` and `Fn::GetAtt` answers for the template's resources.
    func addResourceReferences(
        _ resources: [(String, TemplateValue)], to resolver: inout IntrinsicResolver, scope: StackScope
    ) {
        for (logicalID, resource) in resources {
            let type = resource["Type"]?.string ?? ""
            if type == Self.queueType {
                let queue = queueReferences(logicalID: logicalID, properties: resource["Properties"])
                resolver.references[logicalID] = .string(queue.ref)
                resolver.attributes[logicalID] = queue.attributes
            } else if type == Self.streamType {
                // A `Name` may itself be an intrinsic of parameters (`!Sub ${Stage}-clicks`).
                let given = resource["Properties"]?["Name"].flatMap { try? resolver.resolve($0).string }
                let stream = streamReferences(name: given ?? logicalID)
                resolver.references[logicalID] = .string(stream.ref)
                resolver.attributes[logicalID] = stream.attributes
            } else if Self.functionTypes.contains(type) {
                // A `FunctionName` may itself be an intrinsic of parameters (`!Sub orders-${Stage}`).
                let given = resource["Properties"]?["FunctionName"].flatMap { try? resolver.resolve($0).string }
                let name = given ?? scope.prefix + logicalID
                resolver.references[logicalID] = .string(name)
                resolver.attributes[logicalID] = ["Arn": account.functionARN(name)]
            } else {
                resolver.references[logicalID] = .string(logicalID)
                if !Self.nestedStackTypes.contains(type) { resolver.unsimulated[logicalID] = type }
            }
        }
    }

    /// The template's `Outputs` that resolve; an output that does not is absent, so a parent's
    /// `!GetAtt Child.Outputs.X` names it when it is used.
    static func outputs(_ root: TemplateValue, resolver: IntrinsicResolver) -> [String: String] {
        var outputs: [String: String] = [:]
        for (name, output) in root["Outputs"]?.entries ?? [] {
            if let condition = output["Condition"]?.string, resolver.conditions[condition] != true { continue }
            guard let value = output["Value"], let resolved = try? resolver.resolve(value) else { continue }
            switch resolved {
            case .string(let text): outputs[name] = text
            case .list(let items): outputs[name] = items.compactMap(\.string).joined(separator: ",")
            default: continue
            }
        }
        return outputs
    }

    /// A stable id for `AWS::StackId`, formatted as CloudFormation's UUIDs are.
    static func stackUUID(_ name: String) -> String {
        let hex = SHA256.hash(data: Data(name.utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
        let parts = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { range in
            String(hex.dropFirst(range.lowerBound).prefix(range.count))
        }
        return parts.joined(separator: "-")
    }
}
