/// One `FilterCriteria.Filters[].Pattern` of an event-source mapping: EventBridge's event-pattern
/// syntax, applied to a record (SQS: its metadata at the top level and `body`, when the body is
/// JSON, under `body`).
///
/// A pattern is an object whose keys are AND-ed; a key maps to a nested pattern or to a list of
/// matchers, any of which may match: a string, number or `null` literal, `{"prefix": s}`,
/// `{"suffix": s}`, `{"equals-ignore-case": s}`, `{"anything-but": value | [values] | {"prefix": s}}`,
/// `{"numeric": [op, n, (op, n)]}` (`=`, `<`, `<=`, `>`, `>=`) and `{"exists": Bool}`. A record
/// value that is a list matches when any element does. Parsing throws ``Invalid`` (Lambda's
/// "Invalid filter pattern definition."); matching is pure and never fails.
public struct EventFilterPattern: Sendable, Hashable {
    /// The pattern's text as given, reported back by the mapping API.
    public let text: String
    let root: [String: Node]

    /// Lambda's limit on a pattern's length.
    public static let maximumLength = 4096
    /// How deep patterns may nest (hostile input cannot recurse without bound).
    static let maximumDepth = 32

    indirect enum Node: Sendable, Hashable {
        case nested([String: Node])
        case anyOf([Matcher])
    }

    enum Matcher: Sendable, Hashable {
        case equals(JSONValue)
        case prefix(String)
        case suffix(String)
        case equalsIgnoreCase(String)
        case anythingBut([JSONValue])
        case anythingButPrefix(String)
        case numeric([(NumericOperator, Double)])
        case exists(Bool)

        static func == (lhs: Matcher, rhs: Matcher) -> Bool { String(describing: lhs) == String(describing: rhs) }
        func hash(into hasher: inout Hasher) { hasher.combine(String(describing: self)) }
    }

    enum NumericOperator: String, Sendable, Hashable {
        case equal = "=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="

        func holds(_ value: Double, _ bound: Double) -> Bool {
            switch self {
            case .equal: value == bound
            case .less: value < bound
            case .lessOrEqual: value <= bound
            case .greater: value > bound
            case .greaterOrEqual: value >= bound
            }
        }
    }

    /// Why a pattern was refused; `reason` says which rule it broke.
    public struct Invalid: Error, Sendable, Hashable, CustomStringConvertible {
        public var reason: String
        public var description: String { "Invalid filter pattern definition. (\(reason))" }
    }

    public init(parsing text: String) throws(Invalid) {
        guard text.utf8.count <= Self.maximumLength else {
            throw Invalid(reason: "a pattern is at most \(Self.maximumLength) characters")
        }
        guard let value = JSONValue(parsing: text) else { throw Invalid(reason: "the pattern is not JSON") }
        guard case .object(let members) = value else { throw Invalid(reason: "the pattern must be a JSON object") }
        self.text = text
        root = try Self.parseObject(members, depth: 0)
    }

    /// Whether the pattern names `key` at its top level (SQS: `body` means the body must be JSON).
    public func constrains(_ key: String) -> Bool { root[key] != nil }

    /// Whether `record` (a JSON object) matches.
    public func matches(_ record: JSONValue) -> Bool { Self.match(root, record) }

    /// Whether `record` passes `filters` (any of them; none means all pass), by Lambda's rule for a
    /// payload that is not JSON (an SQS `body`, Kinesis `data`): a pattern that looks into
    /// `payloadKey` does not match it; patterns on the metadata still can.
    public static func passes(
        _ record: JSONValue, filters: [EventFilterPattern], payloadKey: String, payloadIsJSON: Bool
    ) -> Bool {
        guard !filters.isEmpty else { return true }
        return filters.contains { filter in
            if filter.constrains(payloadKey) && !payloadIsJSON { return false }
            return filter.matches(record)
        }
    }

    // MARK: Parsing

    private static func parseObject(_ members: [String: JSONValue], depth: Int) throws(Invalid) -> [String: Node] {
        guard depth < maximumDepth else { throw Invalid(reason: "the pattern nests deeper than \(maximumDepth) levels") }
        guard !members.isEmpty else { throw Invalid(reason: "an object in a pattern must not be empty") }
        var nodes: [String: Node] = [:]
        for (key, value) in members {
            switch value {
            case .object(let inner): nodes[key] = .nested(try parseObject(inner, depth: depth + 1))
            case .array(let items):
                guard !items.isEmpty else { throw Invalid(reason: "the matcher list of \(key) is empty") }
                var matchers: [Matcher] = []
                for item in items { matchers.append(try parseMatcher(item, key: key)) }
                nodes[key] = .anyOf(matchers)
            default:
                throw Invalid(reason: "the value of \(key) must be a list of matchers or an object")
            }
        }
        return nodes
    }

    private static func parseMatcher(_ item: JSONValue, key: String) throws(Invalid) -> Matcher {
        switch item {
        case .string, .number, .null, .bool: return .equals(item)
        case .array: throw Invalid(reason: "a matcher of \(key) is a list")
        case .object(let operators):
            guard operators.count == 1, let (name, argument) = operators.first else {
                throw Invalid(reason: "a matcher object of \(key) must hold exactly one operator")
            }
            switch (name, argument) {
            case ("prefix", .string(let text)): return .prefix(text)
            case ("suffix", .string(let text)): return .suffix(text)
            case ("equals-ignore-case", .string(let text)): return .equalsIgnoreCase(text)
            case ("exists", .bool(let flag)): return .exists(flag)
            case ("anything-but", .string), ("anything-but", .number): return .anythingBut([argument])
            case ("anything-but", .array(let values)):
                guard !values.isEmpty, values.allSatisfy({ $0.isStringOrNumber }) else {
                    throw Invalid(reason: "anything-but of \(key) needs strings or numbers")
                }
                return .anythingBut(values)
            case ("anything-but", .object(let inner)):
                guard inner.count == 1, case .string(let prefix)? = inner["prefix"] else {
                    throw Invalid(reason: "anything-but of \(key) supports only a prefix object")
                }
                return .anythingButPrefix(prefix)
            case ("numeric", .array(let terms)):
                return .numeric(try parseNumeric(terms, key: key))
            default:
                throw Invalid(reason: "\(name) is not a matcher fnhost knows, or its argument has the wrong type (\(key))")
            }
        }
    }

    private static func parseNumeric(_ terms: [JSONValue], key: String) throws(Invalid) -> [(NumericOperator, Double)] {
        guard terms.count == 2 || terms.count == 4 else {
            throw Invalid(reason: "numeric of \(key) takes one or two operator/number pairs")
        }
        var pairs: [(NumericOperator, Double)] = []
        var index = 0
        while index < terms.count {
            guard case .string(let name) = terms[index], let op = NumericOperator(rawValue: name),
                case .number(let bound) = terms[index + 1]
            else { throw Invalid(reason: "numeric of \(key) needs an operator (=, <, <=, >, >=) then a number") }
            pairs.append((op, bound))
            index += 2
        }
        if pairs.count == 2 {
            let lower = pairs[0].0 == .greater || pairs[0].0 == .greaterOrEqual
            let upper = pairs[1].0 == .less || pairs[1].0 == .lessOrEqual
            guard lower && upper && pairs[0].1 <= pairs[1].1 else {
                throw Invalid(reason: "a numeric range of \(key) is a lower bound (> or >=) then an upper bound (< or <=)")
            }
        }
        return pairs
    }

    // MARK: Matching

    private static func match(_ nodes: [String: Node], _ value: JSONValue) -> Bool {
        nodes.allSatisfy { key, node in
            let field = value[key]
            switch node {
            case .nested(let inner):
                guard let field else { return false }
                if case .array(let items) = field { return items.contains { match(inner, $0) } }
                return match(inner, field)
            case .anyOf(let matchers):
                return matchers.contains { matches($0, field) }
            }
        }
    }

    /// `field` is `nil` when the key is absent.
    private static func matches(_ matcher: Matcher, _ field: JSONValue?) -> Bool {
        if case .exists(let flag) = matcher {
            guard let field else { return !flag }
            if case .array(let items) = field, items.isEmpty { return !flag }
            return flag
        }
        guard let field else { return false }
        if case .array(let items) = field { return items.contains { matchesScalar(matcher, $0) } }
        return matchesScalar(matcher, field)
    }

    private static func matchesScalar(_ matcher: Matcher, _ value: JSONValue) -> Bool {
        switch matcher {
        case .equals(let expected): return value == expected
        case .prefix(let prefix): return value.stringValue.map { $0.hasPrefix(prefix) } ?? false
        case .suffix(let suffix): return value.stringValue.map { $0.hasSuffix(suffix) } ?? false
        case .equalsIgnoreCase(let text):
            return value.stringValue.map { $0.lowercased() == text.lowercased() } ?? false
        case .anythingBut(let excluded):
            return value.isStringOrNumber && !excluded.contains(value)
        case .anythingButPrefix(let prefix):
            return value.stringValue.map { !$0.hasPrefix(prefix) } ?? false
        case .numeric(let pairs):
            guard case .number(let number) = value else { return false }
            return pairs.allSatisfy { $0.0.holds(number, $0.1) }
        case .exists: return true
        }
    }
}

extension JSONValue {
    var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    var isStringOrNumber: Bool {
        switch self {
        case .string, .number: true
        default: false
        }
    }
}
