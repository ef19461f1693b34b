import FunctionHostCore

/// Writes JSON objects with their keys in the order given (the summary's documented order),
/// `null` for absent or non-finite numbers.
struct JSONWriter {
    private(set) var text = ""
    private var first = true

    mutating func object(_ body: (inout JSONWriter) -> Void) {
        text += "{"
        first = true
        body(&self)
        text += "}"
        first = false
    }

    private mutating func key(_ name: String) {
        if !first { text += "," }
        first = false
        text += JSONText.quote(name) + ":"
    }

    mutating func object(_ name: String, _ body: (inout JSONWriter) -> Void) {
        key(name)
        object(body)
    }

    mutating func array<Element>(_ name: String, _ elements: [Element], _ body: (inout JSONWriter, Element) -> Void) {
        key(name)
        text += "["
        for (index, element) in elements.enumerated() {
            if index > 0 { text += "," }
            object { body(&$0, element) }
        }
        text += "]"
        first = false
    }

    mutating func field(_ name: String, _ value: String) {
        key(name)
        text += JSONText.quote(value)
    }

    mutating func field(_ name: String, _ value: [String]) {
        key(name)
        text += "[" + value.map(JSONText.quote).joined(separator: ",") + "]"
    }

    mutating func field(_ name: String, _ value: Bool) {
        key(name)
        text += value ? "true" : "false"
    }

    mutating func field(_ name: String, _ value: Int?) {
        key(name)
        text += value.map(String.init) ?? "null"
    }

    mutating func field(_ name: String, _ value: Double?) {
        key(name)
        guard let value, value.isFinite else {
            text += "null"
            return
        }
        text += value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }
}
