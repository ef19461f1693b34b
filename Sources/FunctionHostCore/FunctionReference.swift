/// A function as a caller names it: a name, partial ARN or full ARN, with an optional qualifier.
///
/// Parsing accepts exactly the forms Lambda's `FunctionName` pattern accepts:
/// `name`, `name:qualifier`, `ACCOUNT:function:name[:qualifier]` and
/// `arn:aws:lambda:REGION:ACCOUNT:function:name[:qualifier]`.
public struct FunctionReference: Sendable, Hashable {
    public var name: String
    public var qualifier: String?
    /// Present when the caller gave a partial or full ARN.
    public var accountID: String?
    /// Present when the caller gave a full ARN.
    public var region: String?

    public init(name: String, qualifier: String? = nil, accountID: String? = nil, region: String? = nil) {
        self.name = name
        self.qualifier = qualifier
        self.accountID = accountID
        self.region = region
    }

    /// Parses an already percent-decoded path component; `nil` when it is not a function name.
    public init?(parsing text: String) {
        guard !text.isEmpty, text.utf8.count <= 256 else { return nil }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        var rest = parts[...]
        if rest.first == "arn" {
            guard parts.count >= 7, parts[1].hasPrefix("aws"), parts[2] == "lambda", Self.isRegion(parts[3]) else {
                return nil
            }
            region = parts[3]
            rest = parts[4...]
        }
        if rest.count >= 3, rest[rest.startIndex + 1] == "function" {
            let account = rest[rest.startIndex]
            guard account.count == 12, account.allSatisfy(\.isASCIIDigit) else { return nil }
            accountID = account
            rest = rest.dropFirst(2)
        } else if region != nil {
            return nil
        }
        guard let name = rest.first, rest.count <= 2, Self.isValidName(name) else { return nil }
        self.name = name
        if rest.count == 2 {
            let qualifier = rest[rest.startIndex + 1]
            guard qualifier == "$LATEST" || Self.isValidQualifier(qualifier) else { return nil }
            self.qualifier = qualifier
        }
    }

    /// A bare function name: 1–64 of `a-z A-Z 0-9 - _`.
    public static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count) && name.utf8.allSatisfy { $0.isNameCharacter }
    }

    /// A version or alias: 1–128 of `a-z A-Z 0-9 - _`, or `$LATEST`.
    public static func isValidQualifier(_ qualifier: String) -> Bool {
        qualifier == "$LATEST" || ((1...128).contains(qualifier.utf8.count) && qualifier.utf8.allSatisfy { $0.isNameCharacter })
    }

    private static func isRegion(_ text: String) -> Bool {
        let pieces = text.split(separator: "-")
        return pieces.count >= 3 && pieces.last!.allSatisfy(\.isASCIIDigit)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

extension UInt8 {
    fileprivate var isNameCharacter: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || self == UInt8(ascii: "-")
            || self == UInt8(ascii: "_")
    }
}
