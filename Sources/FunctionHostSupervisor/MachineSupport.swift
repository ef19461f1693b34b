import Foundation
import Glibc
import Logging

/// What this machine offers workers, for `fnhost doctor`: cgroup memory and cpu controllers
/// (v1/v2), namespaces, seccomp and pidfd. Probing creates nothing that outlives it.
public struct MachineSupport: Sendable {
    /// One finding: a feature, whether it is usable, and a short detail.
    public struct Finding: Sendable {
        public var feature: String
        public var available: Bool
        public var detail: String
    }

    public var findings: [Finding]
    /// The memory enforcement `fnhost serve` would use here.
    public var memory: String

    public static func probe(logger: Logger) -> MachineSupport {
        var findings: [Finding] = []
        let mounts = CgroupFiles.mountPoints()
        if let v2 = mounts.v2 {
            let own = CgroupFiles.ownPath(controller: nil) ?? "/"
            let controllers = CgroupFiles.read(v2 + (own == "/" ? "" : own) + "/cgroup.controllers")?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            findings.append(Finding(
                feature: "cgroup v2 memory", available: controllers.split(separator: " ").contains("memory"),
                detail: "\(v2), controllers: \(controllers.isEmpty ? "none" : controllers)"))
        } else {
            findings.append(Finding(feature: "cgroup v2 memory", available: false, detail: "no cgroup2 mount"))
        }
        for controller in ["memory", "cpu"] {
            if let mount = mounts.v1[controller], let own = CgroupFiles.ownPath(controller: controller) {
                let directory = mount + (own == "/" ? "" : own)
                let writable = access(directory, W_OK) == 0
                findings.append(Finding(
                    feature: "cgroup v1 \(controller)", available: writable,
                    detail: "\(directory)\(writable ? "" : " (not writable)")"))
            } else {
                findings.append(Finding(feature: "cgroup v1 \(controller)", available: false, detail: "not mounted"))
            }
        }
        let namespaces = ["mnt", "pid", "user", "net"].filter { access("/proc/self/ns/\($0)", F_OK) == 0 }
        let root = geteuid() == 0
        findings.append(Finding(
            feature: "namespaces", available: !namespaces.isEmpty && root,
            detail: "\(namespaces.joined(separator: ", "))\(root ? "" : " (mount namespaces need root)")"))
        let seccompLine = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("Seccomp:") }
        let filters = access("/proc/sys/kernel/seccomp/actions_avail", R_OK) == 0
        findings.append(Finding(
            feature: "seccomp", available: seccompLine != nil && filters,
            detail: (seccompLine.map { String($0).replacingOccurrences(of: "\t", with: " ") } ?? "no Seccomp in /proc/self/status")
                + (filters ? ", filter mode available" : ", no filter mode")))
        findings.append(Self.pidfd())
        let enforcement = MemoryEnforcement.probe(logger: logger)
        enforcement.shutdown()
        return MachineSupport(findings: findings, memory: enforcement.summary)
    }

    /// `pidfd_open` on this process, through libc's wrapper (glibc ≥ 2.36) when it has one.
    private static func pidfd() -> Finding {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pidfd_open") else {
            return Finding(feature: "pidfd", available: false, detail: "libc has no pidfd_open (glibc < 2.36)")
        }
        typealias PidfdOpen = @convention(c) (pid_t, UInt32) -> Int32
        let descriptor = unsafeBitCast(symbol, to: PidfdOpen.self)(getpid(), 0)
        guard descriptor >= 0 else {
            return Finding(feature: "pidfd", available: false, detail: "pidfd_open: \(String(cString: strerror(errno)))")
        }
        close(descriptor)
        return Finding(feature: "pidfd", available: true, detail: "pidfd_open works")
    }
}
