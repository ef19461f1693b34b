import Foundation

/// What symlinks in a function's code lead to outside it, and where each link resolves inside the
/// sandbox, where the code sits at `/var/task`: `sam build --build-in-source` leaves
/// `node_modules -> ../../node_modules`, which would otherwise point at nothing. The launcher
/// binds each target read-only at that path (`--link-target`).
///
/// Found once at start-up by walking the code directory (links are not followed, so a linked tree
/// is not walked). Links into the code itself, dangling links, and links that would land on a
/// path the sandbox already owns (`/usr`, `/opt`, `/tmp`, ...) are left alone; the last with a warning.
public struct CodeLinkTargets: Sendable, Hashable {
    /// A host path bound read-only at `sandboxPath`.
    public struct Target: Sendable, Hashable {
        public var source: String
        public var sandboxPath: String
    }

    public var targets: [Target] = []
    public var warnings: [String] = []

    /// Paths inside the sandbox a link target may not be bound at (or below).
    static let ownedPaths = [
        "/var/task", "/var/runtime", "/var/lang", "/opt", "/tmp", "/proc", "/dev",
    ] + WorkerSandbox.systemDirectories

    /// Walking stops after this many entries (a warning says so): start-up stays bounded.
    static let walkLimit = 200_000

    public init(codeDirectory: String) {
        let root = URL(fileURLWithPath: codeDirectory).standardizedFileURL.path
        let realRoot = URL(fileURLWithPath: root).resolvingSymlinksInPath().path
        var pending = [""]
        var visited = 0
        var found: [String: String] = [:]  // sandbox path → host source
        while let relativeDirectory = pending.popLast() {
            let directory = relativeDirectory.isEmpty ? root : root + "/" + relativeDirectory
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { continue }
            for name in names {
                visited += 1
                if visited > Self.walkLimit {
                    warnings.append("\(root): more than \(Self.walkLimit) files; symlinks beyond them are not followed into the sandbox")
                    targets = Self.outermost(found)
                    return
                }
                let relative = relativeDirectory.isEmpty ? name : relativeDirectory + "/" + name
                let path = root + "/" + relative
                guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { continue }
                switch attributes[.type] as? FileAttributeType {
                case .typeDirectory?:
                    pending.append(relative)
                case .typeSymbolicLink?:
                    guard let destination = try? FileManager.default.destinationOfSymbolicLink(atPath: path) else { continue }
                    let source = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
                    guard FileManager.default.fileExists(atPath: source),
                        source != realRoot, !source.hasPrefix(realRoot + "/")
                    else { continue }  // dangling, or inside the code: resolves on its own
                    let parent = "/var/task" + (relativeDirectory.isEmpty ? "" : "/" + relativeDirectory)
                    let sandboxPath = Self.normalize(destination.hasPrefix("/") ? destination : parent + "/" + destination)
                    if Self.ownedPaths.contains(where: { sandboxPath == $0 || sandboxPath.hasPrefix($0 + "/") })
                        || sandboxPath == "/"
                    {
                        warnings.append(
                            "\(path) links to \(destination), which would land on \(sandboxPath) in the sandbox; it is not followed there")
                        continue
                    }
                    found[sandboxPath] = source
                default:
                    continue
                }
            }
        }
        targets = Self.outermost(found)
    }

    /// `.` and `..` removed, `..` stopping at `/` (as the kernel resolves it).
    static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." {
                _ = parts.popLast()
            } else {
                parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// A path below another target's is reached through that one's bind.
    private static func outermost(_ found: [String: String]) -> [Target] {
        found.filter { path, _ in !found.keys.contains { path != $0 && path.hasPrefix($0 + "/") } }
            .map { Target(source: $0.value, sandboxPath: $0.key) }
            .sorted { $0.sandboxPath < $1.sandboxPath }
    }
}
