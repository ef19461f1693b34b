/// A Lambda runtime identifier from a template (`python3.12`, `nodejs20.x`, `provided.al2023`).
///
/// Only the runtimes fnhost can run are representable; parsing anything else returns `nil`.
public enum FunctionRuntime: Sendable, Hashable, CustomStringConvertible {
    /// An OS-only runtime: the function's own `bootstrap` executable speaks the Runtime API.
    case provided(String)
    /// Python 3, with its minor version (`python3.12` → 12).
    case python(minor: Int)
    /// Node.js, with its major version (`nodejs20.x` → 20).
    case nodejs(major: Int)

    /// Every identifier fnhost accepts, for error messages.
    public static let supportedIdentifiers: [String] =
        ["provided", "provided.al2", "provided.al2023"]
        + (9...13).map { "python3.\($0)" }
        + [18, 20, 22].map { "nodejs\($0).x" }

    public init?(identifier: String) {
        switch identifier {
        case "provided", "provided.al2", "provided.al2023":
            self = .provided(identifier)
        case _ where identifier.hasPrefix("python3."):
            guard let minor = Int(identifier.dropFirst("python3.".count)), (9...13).contains(minor) else { return nil }
            self = .python(minor: minor)
        case _ where identifier.hasPrefix("nodejs") && identifier.hasSuffix(".x"):
            guard let major = Int(identifier.dropFirst("nodejs".count).dropLast(2)), [18, 20, 22].contains(major) else {
                return nil
            }
            self = .nodejs(major: major)
        default:
            return nil
        }
    }

    /// The identifier as written in a template.
    public var identifier: String {
        switch self {
        case .provided(let name): name
        case .python(let minor): "python3.\(minor)"
        case .nodejs(let major): "nodejs\(major).x"
        }
    }

    public var description: String { identifier }

    /// The value of `AWS_EXECUTION_ENV`; absent for OS-only runtimes, as on Lambda.
    public var executionEnvironment: String? {
        switch self {
        case .provided: nil
        default: "AWS_Lambda_\(identifier)"
        }
    }
}
