import Glibc
import Logging
import Synchronization

/// cgroup v2: `memory.max` with `memory.swap.max` 0 per worker, peak from `memory.peak`, OOM
/// kills from `oom_kill` in `memory.events`; `cpu.weight` in proportion to memory (a whole CPU's
/// while the worker initialises: ``CPUShare``).
///
/// v2 forbids processes in a cgroup that hands controllers to children, so workers live under
/// `fnhost-PID-N` (no processes of its own) below the host's cgroup, which must already delegate
/// the memory controller (a root or delegated cgroup); otherwise this backend is unavailable.
final class CgroupV2Control: ResourceControl {
    let kind = MemoryEnforcement.Kind.cgroupV2
    private let parent: String
    let cpuShare: Bool
    private let counter = Atomic<Int>(0)

    private init(parent: String, cpuShare: Bool) {
        self.parent = parent
        self.cpuShare = cpuShare
    }

    /// `nil` when no cgroup2 hierarchy with a usable memory controller is available.
    static func make(logger: Logger) -> CgroupV2Control? {
        guard let mount = CgroupFiles.mountPoints().v2, let own = CgroupFiles.ownPath(controller: nil) else { return nil }
        let base = mount + (own == "/" ? "" : own)
        guard let available = CgroupFiles.read("\(base)/cgroup.controllers")?.split(whereSeparator: \.isWhitespace),
            available.contains("memory")
        else { return nil }
        CgroupFiles.removeStale(under: base)
        let hostName = CgroupFiles.newHostDirectoryName()
        let parent = "\(base)/\(hostName)"
        do {
            let delegated = CgroupFiles.read("\(base)/cgroup.subtree_control")?.split(whereSeparator: \.isWhitespace) ?? []
            if !delegated.contains("memory") { try CgroupFiles.write("+memory", to: "\(base)/cgroup.subtree_control") }
            try CgroupFiles.makeDirectory(parent)
            try CgroupFiles.write("+memory", to: "\(parent)/cgroup.subtree_control")
        } catch {
            logger.debug("cgroup v2 memory controller not usable", metadata: ["error": "\(error)"])
            CgroupFiles.remove(parent)
            return nil
        }
        var cpu = false
        if available.contains("cpu") {
            let delegated = CgroupFiles.read("\(base)/cgroup.subtree_control")?.split(whereSeparator: \.isWhitespace) ?? []
            if delegated.contains("cpu") || (try? CgroupFiles.write("+cpu", to: "\(base)/cgroup.subtree_control")) != nil {
                cpu = (try? CgroupFiles.write("+cpu", to: "\(parent)/cgroup.subtree_control")) != nil
            }
        }
        return CgroupV2Control(parent: parent, cpuShare: cpu)
    }

    func makeWorker(memoryMegabytes: Int) throws -> any WorkerResources {
        let directory = "\(parent)/w\(counter.add(1, ordering: .relaxed).newValue)"
        try CgroupFiles.makeDirectory(directory)
        do {
            try CgroupFiles.write(String(memoryMegabytes << 20), to: "\(directory)/memory.max")
            try? CgroupFiles.write("0", to: "\(directory)/memory.swap.max")
        } catch {
            CgroupFiles.remove(directory)
            throw error
        }
        var share: CPUShare.Setting?
        if cpuShare {
            let setting = CPUShare.weightSetting(file: "\(directory)/cpu.weight", memoryMegabytes: memoryMegabytes)
            if (try? CgroupFiles.write(String(setting.value), to: setting.file)) != nil { share = setting }
        }
        return CgroupWorker(
            directories: [directory], peakFile: "\(directory)/memory.peak", oomFile: "\(directory)/memory.events",
            share: share)
    }

    func shutdown() {
        CgroupFiles.remove(parent)
    }
}
