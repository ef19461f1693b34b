import FunctionHostSupervisor

/// What the worker sandbox can do on this machine, for `fnhost doctor` and for tests that need it.
///
/// Probing runs the real `fnhost-launch` (two short processes); do it once, not per request.
public struct SandboxStatus: Sendable {
    /// Every protection is on: private root, read-only code and layers, private /tmp, own uid, seccomp.
    public var isFull: Bool
    /// At least the seccomp filter and no_new_privs are on.
    public var filtersSyscalls: Bool
    /// The one start-up warning naming the protections that are off, or `nil`.
    public var warning: String?
    /// One line per protection (`ok` or `OFF`), plus the reason when any is off.
    public var doctorLines: [String]

    /// Probes with the launcher `fnhost` would use; `nil` when there is none.
    public static func probe() -> SandboxStatus? {
        guard let launcher = LauncherLocation.path() else { return nil }
        let capabilities = SandboxCapabilities.probe(launcher: launcher)
        return SandboxStatus(
            isFull: capabilities.level == .full, filtersSyscalls: capabilities.level != .off,
            warning: capabilities.warning, doctorLines: capabilities.doctorLines)
    }
}
