@testable import FunctionHostCore
import NIOCore
import Testing

@Suite struct StrictJSONTests {
    private func accepts(_ text: String) -> Bool {
        (try? StrictJSON.validate(ByteBuffer(string: text))) != nil
    }

    @Test(arguments: [
        "{}", "[]", " \t\r\n{\"a\": [1, -2.5e+10, 0, 0.5, true, false, null, \"x\\u00e9\\n\\\"\"]} ", "\"text\"", "42", "-0",
        "1E5", "null", "{\"\": {}}", "\"é 漢 😀\"",
    ])
    func acceptsRFC8259Values(_ text: String) {
        #expect(accepts(text))
    }

    @Test(arguments: [
        "[1,]", "{\"a\":1,}", "", "   ", "[1 2]", "{\"a\" 1}", "{a:1}", "{'a':1}", "01", "1.", ".5", "-", "1e", "+1", "NaN",
        "Infinity", "[1]]", "{} {}", "\"tab\there\"", "\"\\x\"", "\"\\u12G4\"", "\"open", "tru", "nul", "[", "{\"a\":",
        "// c\n1", "[1,,2]",
    ])
    func rejectsWhatRFC8259Rejects(_ text: String) {
        #expect(!accepts(text), "\(text) must be refused")
    }

    @Test func rejectsInvalidUTF8AndSurvivesHostileNesting() throws {
        #expect((try? StrictJSON.validate(ByteBuffer(bytes: [0x22, 0xff, 0x22]))) == nil)
        let depth = 1_000_000
        let deep = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(accepts(deep))
        #expect(!accepts(String(repeating: "[", count: depth)))
    }

    @Test func namesWhereTheTextBreaks() {
        #expect(throws: StrictJSON.SyntaxError(reason: "Unexpected character ']'", offset: 3)) {
            try StrictJSON.validate(ByteBuffer(string: "[1,]"))
        }
    }
}
