/// One pass over `Conditions`, memoising each result; a cycle is an error, not a recursion without end.
struct ConditionEvaluation {
    let resolver: IntrinsicResolver
    let definitions: [String: TemplateValue]
    var results: [String: Bool] = [:]

    init(resolver: IntrinsicResolver, definitions: [(String, TemplateValue)]) {
        self.resolver = resolver
        self.definitions = Dictionary(definitions, uniquingKeysWith: { first, _ in first })
    }

    mutating func condition(_ name: String, visiting: Set<String>) throws(IntrinsicResolver.Failure) -> Bool {
        if let known = results[name] { return known }
        guard let definition = definitions[name] else {
            throw IntrinsicResolver.Failure(message: "condition \(name) is not defined in Conditions")
        }
        guard !visiting.contains(name) else {
            throw IntrinsicResolver.Failure(message: "condition \(name) depends on itself")
        }
        let value = try truth(definition, in: name, visiting: visiting.union([name]))
        results[name] = value
        return value
    }

    private mutating func truth(_ value: TemplateValue, in name: String, visiting: Set<String>) throws(IntrinsicResolver
        .Failure) -> Bool
    {
        func malformed(_ detail: String) -> IntrinsicResolver.Failure {
            IntrinsicResolver.Failure(message: "condition \(name): \(detail)")
        }
        guard let entries = value.entries, entries.count == 1, let (function, argument) = entries.first else {
            throw malformed("must be one of Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition")
        }
        if function == "Condition" {
            guard let other = argument.string else { throw malformed("Condition takes a condition name") }
            return try condition(other, visiting: visiting)
        }
        guard case .list(let items) = argument else { throw malformed("\(function) takes a list") }
        switch function {
        case "Fn::Equals":
            guard items.count == 2 else { throw malformed("Fn::Equals takes two values") }
            return try resolver.resolve(items[0]) == resolver.resolve(items[1])
        case "Fn::And", "Fn::Or":
            guard (2...10).contains(items.count) else { throw malformed("\(function) takes 2 to 10 conditions") }
            var values: [Bool] = []
            for item in items { values.append(try truth(item, in: name, visiting: visiting)) }
            return function == "Fn::And" ? !values.contains(false) : values.contains(true)
        case "Fn::Not":
            guard items.count == 1 else { throw malformed("Fn::Not takes one condition") }
            return !(try truth(items[0], in: name, visiting: visiting))
        default:
            throw malformed("\(function) is not a condition function (Fn::Equals, Fn::And, Fn::Or, Fn::Not, Condition)")
        }
    }
}
