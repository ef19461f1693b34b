import NIOCore

/// Checks that bytes are one JSON text exactly as RFC 8259 defines it, the way Lambda checks an
/// invocation payload: no trailing commas, comments, single quotes, `NaN`, leading zeros, raw
/// control characters in strings or invalid UTF-8 (Foundation's parser accepts some of these).
///
/// Iterative, so hostile nesting (`[[[[…`) cannot exhaust the stack; linear in the input.
public enum StrictJSON {
    /// Where and why the input is not JSON.
    public struct SyntaxError: Error, Equatable, CustomStringConvertible {
        public var reason: String
        /// Byte offset of the offending byte (or the end of input).
        public var offset: Int

        public var description: String { "\(reason) at byte \(offset)" }
    }

    /// Throws unless `buffer`'s readable bytes hold exactly one JSON value, optionally surrounded by whitespace.
    public static func validate(_ buffer: ByteBuffer) throws(SyntaxError) {
        let outcome = buffer.withUnsafeReadableBytes { raw in
            Result { () throws(SyntaxError) in
                var parser = Parser(raw.bindMemory(to: UInt8.self))
                try parser.run()
            }
        }
        try outcome.get()
    }

    private struct Parser {
        /// What the parser expects next inside a container.
        enum Container: UInt8 {
            case array, object
        }

        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        var stack: [Container] = []

        init(_ bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
        }

        mutating func run() throws(SyntaxError) {
            guard String(validating: bytes, as: UTF8.self) != nil else {
                throw SyntaxError(reason: "Invalid UTF-8", offset: 0)
            }
            // One value, then, while containers are open, a separator or a closer; never recursion.
            var expectingValue = true
            while expectingValue || !stack.isEmpty {
                skipWhitespace()
                if expectingValue {
                    expectingValue = try value()
                    continue
                }
                let container = stack[stack.count - 1]
                guard let byte = peek() else { throw fail("Unexpected end of input") }
                index += 1
                if byte == UInt8(ascii: ",") {
                    skipWhitespace()
                    if container == .object { try key() }
                    expectingValue = true
                } else if byte == (container == .array ? UInt8(ascii: "]") : UInt8(ascii: "}")) {
                    stack.removeLast()
                } else {
                    index -= 1
                    throw fail("Expected ',' or '\(container == .array ? "]" : "}")'")
                }
            }
            skipWhitespace()
            guard index == bytes.count else { throw fail("Unexpected data after the JSON value") }
        }

        /// Reads a scalar or an empty container (false: the value is complete), or opens a
        /// container (true: its first element comes next).
        private mutating func value() throws(SyntaxError) -> Bool {
            guard let byte = peek() else { throw fail("Unexpected end of input") }
            switch byte {
            case UInt8(ascii: "{"):
                index += 1
                skipWhitespace()
                if peek() == UInt8(ascii: "}") {
                    index += 1
                    return false
                }
                stack.append(.object)
                try key()
                return true
            case UInt8(ascii: "["):
                index += 1
                skipWhitespace()
                if peek() == UInt8(ascii: "]") {
                    index += 1
                    return false
                }
                stack.append(.array)
                return true
            case UInt8(ascii: "\""):
                try string()
            case UInt8(ascii: "t"):
                try literal("true")
            case UInt8(ascii: "f"):
                try literal("false")
            case UInt8(ascii: "n"):
                try literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                try number()
            default:
                throw fail("Unexpected character '\(Unicode.Scalar(byte))'")
            }
            return false
        }

        /// `"name":` inside an object; its value comes next.
        private mutating func key() throws(SyntaxError) {
            guard peek() == UInt8(ascii: "\"") else { throw fail("Expected a string key") }
            try string()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw fail("Expected ':'") }
            index += 1
        }

        private mutating func string() throws(SyntaxError) {
            index += 1
            while let byte = peek() {
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return
                case UInt8(ascii: "\\"):
                    guard let escaped = peek() else { break }
                    index += 1
                    switch escaped {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                        UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        continue
                    case UInt8(ascii: "u"):
                        for _ in 0..<4 {
                            guard let digit = peek(), digit.isHexDigit else { throw fail("Invalid \\u escape") }
                            index += 1
                        }
                    default:
                        index -= 1
                        throw fail("Invalid escape")
                    }
                case 0..<0x20:
                    index -= 1
                    throw fail("Unescaped control character in a string")
                default:
                    continue
                }
            }
            throw fail("Unterminated string")
        }

        private mutating func number() throws(SyntaxError) {
            if peek() == UInt8(ascii: "-") { index += 1 }
            if peek() == UInt8(ascii: "0") {
                index += 1
            } else {
                guard try digits() > 0 else { throw fail("Invalid number") }
            }
            if peek() == UInt8(ascii: ".") {
                index += 1
                guard try digits() > 0 else { throw fail("Invalid number") }
            }
            if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
                index += 1
                if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
                guard try digits() > 0 else { throw fail("Invalid number") }
            }
        }

        private mutating func digits() throws(SyntaxError) -> Int {
            let start = index
            while let byte = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
            return index - start
        }

        private mutating func literal(_ word: StaticString) throws(SyntaxError) {
            let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
            guard bytes.count - index >= expected.count,
                bytes[index..<(index + expected.count)].elementsEqual(expected)
            else { throw fail("Invalid literal") }
            index += expected.count
        }

        private mutating func skipWhitespace() {
            while let byte = peek(),
                byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n")
                    || byte == UInt8(ascii: "\r")
            {
                index += 1
            }
        }

        private func peek() -> UInt8? {
            index < bytes.count ? bytes[index] : nil
        }

        private func fail(_ reason: String) -> SyntaxError {
            SyntaxError(reason: reason, offset: index)
        }
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
    }
}
