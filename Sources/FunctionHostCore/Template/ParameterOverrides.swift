import Foundation

/// Template parameter values as the CLI takes them: `--parameter KEY=VALUE`, and SAM's
/// `--parameter-overrides 'K=V K2="V 2"'` (also `ParameterKey=K,ParameterValue=V`).
public enum ParameterOverrides {
    /// What a malformed override looks like, for the usage error.
    public struct Malformed: Error, CustomStringConvertible {
        public var text: String
        public var description: String {
            "a parameter override takes KEY=VALUE or ParameterKey=KEY,ParameterValue=VALUE, got \(text)"
        }
    }

    /// Parses one `--parameter-overrides` value: whitespace-separated overrides, values optionally quoted.
    public static func parse(sam text: String) throws(Malformed) -> [String: String] {
        var overrides: [String: String] = [:]
        for token in tokens(text) {
            let (key, value) = try pair(token)
            overrides[key] = value
        }
        return overrides
    }

    /// Parses one `KEY=VALUE` or `ParameterKey=KEY,ParameterValue=VALUE`.
    public static func pair(_ token: String) throws(Malformed) -> (String, String) {
        if token.hasPrefix("ParameterKey="), let comma = token.range(of: ",ParameterValue=") {
            let key = String(token[token.index(token.startIndex, offsetBy: "ParameterKey=".count)..<comma.lowerBound])
            guard !key.isEmpty else { throw Malformed(text: token) }
            return (key, String(token[comma.upperBound...]))
        }
        guard let equals = token.firstIndex(of: "="), equals != token.startIndex else { throw Malformed(text: token) }
        return (String(token[..<equals]), String(token[token.index(after: equals)...]))
    }

    /// Splits on unquoted whitespace; `"` and `'` group and are removed.
    static func tokens(_ text: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        var quote: Character?
        var inToken = false
        for character in text {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
            } else if character == "\"" || character == "'" {
                quote = character
                inToken = true
            } else if character.isWhitespace {
                if inToken { tokens.append(current) }
                current = ""
                inToken = false
            } else {
                current.append(character)
                inToken = true
            }
        }
        if inToken { tokens.append(current) }
        return tokens
    }
}
