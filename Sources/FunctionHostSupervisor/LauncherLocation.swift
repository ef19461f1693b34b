import Foundation

/// Finds the `fnhost-launch` executable every worker starts through.
public enum LauncherLocation {
    /// `$FNHOST_LAUNCHER`, else `fnhost-launch` beside the running executable; `nil` if neither exists.
    public static func path() -> String? {
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
