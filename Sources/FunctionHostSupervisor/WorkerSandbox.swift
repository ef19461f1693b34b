import FunctionHostCore
import FunctionHostRuntimeBootstraps
import Foundation
import Glibc

/// How workers are confined, fixed at start-up: turns a function into `fnhost-launch` arguments,
/// the task root its environment names, and the command of its runtime.
///
/// The level is what ``SandboxCapabilities`` found this machine allows (or what
/// `FNHOST_SANDBOX=off` asked for). Layers must have been merged (``LayerCache``) before a
/// worker of a function with layers starts: ``layerRoots`` maps each distinct layer list to its
/// merged directory.
public struct WorkerSandbox: Sendable {
    /// How much of the sandbox workers get.
    public enum Level: String, Sendable {
        /// A private root (code read-only at `/var/task`, layers at `/opt`, a private `/tmp`),
        /// a uid of the worker's own, no_new_privs and the seccomp deny-list. Needs root.
        case full
        /// No mount namespace nor uid change (unprivileged host): no_new_privs, seccomp and
        /// rlimits only; the function runs in its CodeUri directory and sees the host's files.
        case restricted
        /// Nothing but the working directory and rlimits (`FNHOST_SANDBOX=off`, or no seccomp).
        case off
    }

    public var level: Level
    /// Interpreter install prefixes outside the system directories (pyenv's `versions/3.x.y`),
    /// bound read-only at the same path so their standard library and site-packages import.
    public var exposedDirectories: [String]
    /// The merged `/opt` for each distinct, ordered list of layer sources.
    public var layerRoots: [[String]: String]
    /// Shared libraries bound at `/var/lang/lib` (first on `LD_LIBRARY_PATH`): the host's Swift
    /// runtime, so Swift functions linked against it dynamically still start (Lambda itself
    /// would need them built with `--static-swift-stdlib`).
    public var languageLibraries: String?
    /// Per code directory: what its symlinks lead to outside it, bound where they resolve inside.
    public var linkTargets: [String: CodeLinkTargets] = [:]
    /// The seccomp policy compiled once, which launchers load instead of compiling it (not at `.off`).
    public var seccompProgram: SeccompProgram?

    public init(
        level: Level, exposedDirectories: [String] = [], layerRoots: [[String]: String] = [:],
        languageLibraries: String? = WorkerSandbox.swiftRuntimeDirectory()
    ) {
        self.level = level
        self.exposedDirectories = exposedDirectories
        self.layerRoots = layerRoots
        self.languageLibraries = languageLibraries
    }

    /// The uid the worker's processes run as, which alone may use its Runtime API: with the full
    /// sandbox one of its own (`2000000000 +` the launcher's pid, as `sandbox_uid` in the
    /// launcher's restrict.c computes it), else the host's.
    func workerUID(launcherPID: pid_t) -> UInt32 {
        level == .full ? Self.sandboxUIDBase + UInt32(launcherPID) : geteuid()
    }

    /// The launcher's `SANDBOX_UID_BASE`.
    static let sandboxUIDBase: UInt32 = 2_000_000_000

    /// Where the function's code is, as the function sees it (`LAMBDA_TASK_ROOT`).
    func taskRoot(for function: FunctionConfiguration) -> String {
        level == .full ? "/var/task" : function.codeDirectory
    }

    /// The launcher's options (everything before `--`); `tmpMount` is the descriptor of a volume's
    /// detached mount to attach at `/tmp` instead of a tmpfs of the function's `EphemeralStorage`
    /// size. Without `seccomp` the policy is left out: a standby launcher was given it when it was spawned.
    func launchArguments(for function: FunctionConfiguration, tmpMount: Int32? = nil, seccomp: Bool = true)
        -> [String]
    {
        let filter = seccomp ? seccompArguments : []
        switch level {
        case .off:
            return ["--chdir", function.codeDirectory]
        case .restricted:
            return ["--chdir", function.codeDirectory] + filter
        case .full:
            var arguments = ["--task-root", function.codeDirectory, "--sandbox"] + filter
            arguments += ["--runtime-dir", Self.runtimeDirectory]
            arguments += tmpMount.map { ["--tmp-mount", String($0)] } ?? ["--tmp-size", String(function.ephemeralStorage)]
            for directory in exposedDirectories { arguments += ["--expose", directory] }
            if let languageLibraries { arguments += ["--lang-lib", languageLibraries] }
            if !function.layers.isEmpty, let opt = layerRoots[function.layers] { arguments += ["--opt", opt] }
            for target in linkTargets[function.codeDirectory]?.targets ?? [] {
                arguments += ["--link-target", target.source, target.sandboxPath]
            }
            return arguments
        }
    }

    /// The compiled policy's descriptor, else `--seccomp` (the launcher compiles it itself); none at `.off`.
    var seccompArguments: [String] {
        level == .off ? [] : seccompProgram.map { ["--seccomp-program", String($0.descriptor)] } ?? ["--seccomp"]
    }

    /// A standby launcher's options: the seccomp policy and, with the full sandbox, `--fresh-root`
    /// (it builds the root every function gets before its order, so a cold start only attaches the
    /// function's own directories).
    var standbyArguments: [String] {
        seccompArguments + (level == .full ? ["--fresh-root"] : [])
    }

    /// Host descriptors a launcher must inherit for its arguments (the compiled seccomp policy).
    var inheritedDescriptors: [Int32] {
        level == .off ? [] : seccompProgram.map { [$0.descriptor] } ?? []
    }

    /// The command that starts the function's runtime, as seen from inside the sandbox.
    func command(for function: FunctionConfiguration, interpreters: RuntimeInterpreters) -> [String] {
        switch function.runtime {
        case .provided:
            let taskRoot = taskRoot(for: function)
            // Lambda's order: the function's own bootstrap, else one from a layer.
            if level == .full, !function.layers.isEmpty,
                !FileManager.default.fileExists(atPath: function.codeDirectory + "/bootstrap"),
                let opt = layerRoots[function.layers], FileManager.default.fileExists(atPath: opt + "/bootstrap")
            {
                return ["/opt/bootstrap"]
            }
            return ["\(taskRoot)/bootstrap"]
        case .python:
            // Without `site` (-S: no scan of the host's .pth files) and without user site-packages
            // (-s); the bootstrap builds sys.path as Lambda does. debugpy is found through `site`.
            let start = function.debugPort.map { ["-m", "debugpy", "--listen", "127.0.0.1:\($0)", "--wait-for-client"] }
                ?? ["-S", "-s"]
            return [interpreters.interpreter(for: function.runtime) ?? "python3"] + start
                + [bootstrap(RuntimeBootstraps.python)]
        case .nodejs:
            let debugger = function.debugPort.map { ["--inspect-brk=127.0.0.1:\($0)"] }
            return [interpreters.interpreter(for: function.runtime) ?? "node"] + (debugger ?? [])
                + [bootstrap(RuntimeBootstraps.node)]
        }
    }

    /// A bootstrap file of the resource bundle, at `/var/runtime/...` inside the sandbox.
    private func bootstrap(_ hostPath: String) -> String {
        guard level == .full else { return hostPath }
        return "/var/runtime/" + hostPath.dropFirst(Self.runtimeDirectory.count + 1)
    }

    /// The resource bundle holding `python/bootstrap.py` and `node/bootstrap.mjs`, bound at `/var/runtime`.
    static var runtimeDirectory: String {
        URL(fileURLWithPath: RuntimeBootstraps.python).deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// Where this process loaded `libswiftCore.so` from, or `nil` when the Swift runtime is linked statically.
    public static func swiftRuntimeDirectory() -> String? {
        // /proc files report size 0, so read to EOF rather than by their size.
        guard let file = FileHandle(forReadingAtPath: "/proc/self/maps") else { return nil }
        defer { try? file.close() }
        let maps = String(decoding: file.readDataToEndOfFile(), as: UTF8.self)
        for line in maps.split(separator: "\n") where line.hasSuffix("/libswiftCore.so") {
            guard let slash = line.firstIndex(of: "/") else { continue }
            return URL(fileURLWithPath: String(line[slash...])).deletingLastPathComponent().path
        }
        return nil
    }

    /// Host directories every sandbox already binds (or links) read-only.
    static let systemDirectories = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"]

    /// The install prefixes of `interpreters` that the system directories do not already cover.
    public static func interpreterPrefixes(_ interpreters: RuntimeInterpreters) -> [String] {
        let prefixes = interpreters.binDirectories.map { directory -> String in
            let real = URL(fileURLWithPath: directory).resolvingSymlinksInPath()
            return real.lastPathComponent == "bin" ? real.deletingLastPathComponent().path : real.path
        }
        return Array(
            Set(prefixes.filter { prefix in
                prefix != "/" && !systemDirectories.contains { prefix == $0 || prefix.hasPrefix($0 + "/") }
            })
        ).sorted()
    }
}
