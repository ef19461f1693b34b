import Foundation
import Glibc

/// What this machine lets workers have, probed once at start-up.
public enum HostCapabilities {
    /// Whether `fnhost-launch --task-root` works here (needs root and mount namespaces).
    public static func canIsolateTaskRoot(launcher: String) -> Bool {
        guard geteuid() == 0, let probe = ProcessSpawner.capture(
            [launcher, "--task-root", "/", "--", "/bin/sh", "-c", "pwd"], environment: ["PATH": "/usr/bin:/bin"])
        else { return false }
        return probe.trimmingCharacters(in: .whitespacesAndNewlines) == "/var/task"
    }

    /// The `fnhost-launch` executable: `$FNHOST_LAUNCHER`, else beside the running executable.
    public static func launcherPath() -> String? {
        if let path = ProcessInfo.processInfo.environment["FNHOST_LAUNCHER"] {
            return FileManager.default.isExecutableFile(atPath: path) ? path : nil
        }
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            return nil
        }
        let candidate = URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("fnhost-launch").path
        return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
    }
}
