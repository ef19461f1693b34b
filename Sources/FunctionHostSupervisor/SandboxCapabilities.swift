import Foundation
import Glibc

/// What confinement this machine lets workers have, probed once at start-up by running the real
/// launcher, and the one warning (and `fnhost doctor` lines) saying which protections are off.
///
/// `FNHOST_SANDBOX=off` in the host's environment turns the sandbox off on purpose (a developer
/// switch, used by `bench/` to measure what the sandbox costs); it is reported like any other gap.
public struct SandboxCapabilities: Sendable {
    /// The level workers will run at.
    public var level: WorkerSandbox.Level
    /// Why the full sandbox is not available: the launcher's own `fnhost-launch: ...` line, or the reason.
    public var reason: String?

    /// Protections the full sandbox adds over `restricted`.
    static let namespaceProtections = [
        "private root filesystem (host files hidden)", "read-only /var/task", "layers at /opt",
        "private /tmp with EphemeralStorage size", "unprivileged uid", "process-count limit",
        "Runtime API answers only its own worker (other functions can reach it)",
    ]
    /// Protections `restricted` adds over `off`.
    static let filterProtections = ["seccomp syscall filter", "no_new_privs"]

    /// Runs `fnhost-launch` with the full sandbox, then with the filter alone, and keeps what works.
    public static func probe(launcher: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        -> SandboxCapabilities
    {
        if environment["FNHOST_SANDBOX"] == "off" {
            return SandboxCapabilities(level: .off, reason: "FNHOST_SANDBOX=off")
        }
        let full = ProcessSpawner.run(
            [launcher, "--task-root", "/", "--sandbox", "--seccomp", "--", "/bin/sh", "-c", "pwd; id -u"])
        if full.status == 0, full.output.split(separator: "\n").first == "/var/task",
            full.output.split(separator: "\n").last != "0"
        {
            return SandboxCapabilities(level: .full, reason: nil)
        }
        let why = geteuid() != 0 ? "not running as root" : firstLine(full.output) ?? "exit status \(full.status)"
        let filtered = ProcessSpawner.run([launcher, "--chdir", "/", "--seccomp", "--", "/bin/sh", "-c", "pwd"])
        if filtered.status == 0 {
            return SandboxCapabilities(level: .restricted, reason: why)
        }
        return SandboxCapabilities(
            level: .off, reason: why + "; " + (firstLine(filtered.output) ?? "seccomp unavailable"))
    }

    /// The protections workers run without, by name; empty at the full level.
    public var protectionsOff: [String] {
        switch level {
        case .full: []
        case .restricted: Self.namespaceProtections
        case .off: Self.namespaceProtections + Self.filterProtections
        }
    }

    /// The one start-up warning, or `nil` when every protection is on.
    public var warning: String? {
        guard level != .full else { return nil }
        return "workers run without sandbox protections (\(reason ?? "unavailable")): off: "
            + protectionsOff.joined(separator: ", ")
            + (level == .restricted ? "; on: seccomp syscall filter, no_new_privs, RLIMIT_NOFILE" : "")
    }

    /// Lines for `fnhost doctor`: one per protection, `ok` or `OFF`.
    public var doctorLines: [String] {
        let off = Set(protectionsOff)
        var lines = (Self.namespaceProtections + Self.filterProtections).map { protection in
            "sandbox: \(off.contains(protection) ? "OFF" : "ok ") \(protection)"
        }
        if let reason { lines.append("sandbox: reason: \(reason)") }
        return lines
    }

    private static func firstLine(_ text: String) -> String? {
        text.split(separator: "\n").first { $0.hasPrefix("fnhost-launch:") }.map(String.init)
    }
}
