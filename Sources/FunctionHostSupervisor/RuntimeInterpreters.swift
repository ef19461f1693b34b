import FunctionHostCore
import Foundation
import FunctionHostRuntimeBootstraps

/// The real interpreter executables of the managed runtimes, resolved once at start-up.
///
/// `python3` on PATH may be a shell shim (pyenv) that costs ~77 ms per start, and shims of
/// inactive versions exist but fail; so each is asked for its real path
/// (`sys.executable`, `process.execPath`) and that path is spawned.
public struct RuntimeInterpreters: Sendable {
    private var paths: [FunctionRuntime: String] = [:]
    /// One line per fallback or missing interpreter, printed once at start-up.
    public private(set) var warnings: [String] = []
    /// Directories of the resolved interpreters, put on the workers' PATH.
    public var binDirectories: [String] {
        Array(Set(paths.values.map { ($0 as NSString).deletingLastPathComponent })).sorted()
    }

    public init(resolving runtimes: some Sequence<FunctionRuntime>, searchPath: String) {
        for runtime in Set(runtimes) {
            switch runtime {
            case .provided:
                continue
            case .python(let minor):
                let probe = ["-c", "import sys; print(sys.executable)"]
                if let path = Self.ask("python3.\(minor)", probe, searchPath) ?? Self.pyenvPython(minor: minor) {
                    paths[runtime] = path
                } else if let path = Self.ask("python3", probe, searchPath) {
                    paths[runtime] = path
                    warnings.append("python3.\(minor) is not installed; \(runtime) functions run with \(path)")
                } else {
                    warnings.append("no python3 found on PATH; \(runtime) functions cannot run")
                }
                if let path = paths[runtime] { Self.compilePythonRuntime(with: path) }
            case .nodejs(let major):
                // One start of node for both answers: its path, then its version.
                if let answer = Self.output(of: "node", ["-p", "process.execPath + '\\n' + process.versions.node"], searchPath),
                    case let lines = answer.split(separator: "\n").map(String.init), lines.count == 2,
                    FileManager.default.isExecutableFile(atPath: lines[0])
                {
                    let (path, version) = (lines[0], lines[1])
                    paths[runtime] = path
                    if version.split(separator: ".").first.flatMap({ Int($0) }) != major {
                        warnings.append("\(runtime) functions run with node \(version) (\(path)), not node \(major)")
                    }
                } else {
                    warnings.append("no node found on PATH; \(runtime) functions cannot run")
                }
            }
        }
    }

    /// The interpreter for a managed runtime; `nil` for OS-only runtimes or when none was found.
    public func interpreter(for runtime: FunctionRuntime) -> String? {
        paths[runtime]
    }

    /// Whether `runtime`'s interpreter can import the Python module `name` (`debugpy`).
    public func canImport(_ name: String, runtime: FunctionRuntime) -> Bool {
        guard case .python = runtime, let interpreter = paths[runtime] else { return false }
        return ProcessSpawner.capture(
            [interpreter, "-c", "import \(name); print('ok')"], environment: ProcessInfo.processInfo.environment)?
            .contains("ok") == true
    }

    /// Writes the Python runtime's bytecode beside it (`__pycache__`), once per interpreter: a worker,
    /// which cannot write there, then loads it instead of compiling the module at every cold start.
    /// Where the bundle is read-only this does nothing, and workers compile it each time.
    private static func compilePythonRuntime(with interpreter: String) {
        _ = ProcessSpawner.capture(
            [interpreter, "-S", "-s", "-m", "py_compile", RuntimeBootstraps.pythonRuntime],
            environment: ProcessInfo.processInfo.environment)
    }

    /// The path an interpreter prints for itself, if it is an executable file.
    private static func ask(_ name: String, _ arguments: [String], _ searchPath: String) -> String? {
        guard let path = output(of: name, arguments, searchPath) else { return nil }
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    /// What `name` (found on `searchPath`) prints with `arguments`, trimmed; `nil` if it fails.
    private static func output(of name: String, _ arguments: [String], _ searchPath: String) -> String? {
        guard let executable = findExecutable(name, in: searchPath),
            let output = ProcessSpawner.capture(
                [executable] + arguments, environment: ProcessInfo.processInfo.environment)
        else { return nil }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// pyenv's shim answers only for the active version; other installed versions live under `versions/`.
    private static func pyenvPython(minor: Int) -> String? {
        let environment = ProcessInfo.processInfo.environment
        let root = environment["PYENV_ROOT"] ?? environment["HOME"].map { "\($0)/.pyenv" } ?? "/root/.pyenv"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "\(root)/versions")) ?? []
        return versions.filter { $0.hasPrefix("3.\(minor).") }
            .sorted { $0.compare($1, options: .numeric) == .orderedDescending }
            .map { "\(root)/versions/\($0)/bin/python3.\(minor)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func findExecutable(_ name: String, in searchPath: String) -> String? {
        searchPath.split(separator: ":").lazy
            .map { "\($0)/\(name)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
