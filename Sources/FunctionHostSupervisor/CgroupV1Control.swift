import Glibc
import Logging
import Synchronization

/// cgroup v1: `memory.limit_in_bytes` (+ `memory.memsw.limit_in_bytes`, so no swap) per worker,
/// peak from `memory.max_usage_in_bytes`, OOM kills from `oom_kill` in `memory.oom_control`;
/// `cpu.shares` in proportion to memory where the cpu controller is writable (a whole CPU's while
/// the worker initialises: ``CPUShare``).
///
/// v1 allows processes and child cgroups side by side, so worker cgroups live in
/// `fnhost-PID-N` under the host's own memory (and cpu) cgroup; the host itself stays put.
final class CgroupV1Control: ResourceControl {
    let kind = MemoryEnforcement.Kind.cgroupV1
    private let memoryParent: String
    private let cpuParent: String?
    private let counter = Atomic<Int>(0)
    var cpuShare: Bool { cpuParent != nil }

    private init(memoryParent: String, cpuParent: String?) {
        self.memoryParent = memoryParent
        self.cpuParent = cpuParent
    }

    /// `nil` when no v1 memory controller is mounted and writable here.
    static func make(logger: Logger) -> CgroupV1Control? {
        let mounts = CgroupFiles.mountPoints().v1
        guard let memoryMount = mounts["memory"], let own = CgroupFiles.ownPath(controller: "memory") else { return nil }
        let base = memoryMount + (own == "/" ? "" : own)
        CgroupFiles.removeStale(under: base)
        let hostName = CgroupFiles.newHostDirectoryName()
        let memoryParent = "\(base)/\(hostName)"
        do {
            try CgroupFiles.makeDirectory(memoryParent)
            // Probe: a limit must be writable on a child (read-only or delegated-away cgroupfs fails here).
            let probe = "\(memoryParent)/probe"
            try CgroupFiles.makeDirectory(probe)
            defer { CgroupFiles.remove(probe) }
            try CgroupFiles.write("\(128 << 20)", to: "\(probe)/memory.limit_in_bytes")
        } catch {
            logger.debug("cgroup v1 memory controller not usable", metadata: ["error": "\(error)"])
            CgroupFiles.remove(memoryParent)
            return nil
        }
        var cpuParent: String?
        if let cpuMount = mounts["cpu"], let ownCPU = CgroupFiles.ownPath(controller: "cpu") {
            let cpuBase = cpuMount + (ownCPU == "/" ? "" : ownCPU)
            CgroupFiles.removeStale(under: cpuBase)
            let candidate = "\(cpuBase)/\(hostName)"
            if (try? CgroupFiles.makeDirectory(candidate)) != nil { cpuParent = candidate }
        }
        return CgroupV1Control(memoryParent: memoryParent, cpuParent: cpuParent)
    }

    func makeWorker(memoryMegabytes: Int) throws -> any WorkerResources {
        let name = "w\(counter.add(1, ordering: .relaxed).newValue)"
        let memory = "\(memoryParent)/\(name)"
        try CgroupFiles.makeDirectory(memory)
        do {
            let bytes = String(memoryMegabytes << 20)
            try CgroupFiles.write(bytes, to: "\(memory)/memory.limit_in_bytes")
            // memsw (memory + swap) exists only with swap accounting; equal limits mean no swap.
            if CgroupFiles.read("\(memory)/memory.memsw.limit_in_bytes") != nil {
                try CgroupFiles.write(bytes, to: "\(memory)/memory.memsw.limit_in_bytes")
            }
            try? CgroupFiles.write("0", to: "\(memory)/memory.swappiness")
        } catch {
            CgroupFiles.remove(memory)
            throw error
        }
        var directories = [memory]
        var share: CPUShare.Setting?
        if let cpuParent {
            let cpu = "\(cpuParent)/\(name)"
            if (try? CgroupFiles.makeDirectory(cpu)) != nil {
                let setting = CPUShare.sharesSetting(file: "\(cpu)/cpu.shares", memoryMegabytes: memoryMegabytes)
                if (try? CgroupFiles.write(String(setting.value), to: setting.file)) != nil {
                    directories.append(cpu)
                    share = setting
                } else {
                    CgroupFiles.remove(cpu)
                }
            }
        }
        return CgroupWorker(
            directories: directories, peakFile: "\(memory)/memory.max_usage_in_bytes",
            oomFile: "\(memory)/memory.oom_control", share: share)
    }

    func shutdown() {
        CgroupFiles.remove(memoryParent)
        if let cpuParent { CgroupFiles.remove(cpuParent) }
    }
}

/// A worker's cgroup directories (one per hierarchy): joined by the launcher, read for the
/// peak and OOM kills, removed when the worker is gone.
struct CgroupWorker: WorkerResources {
    let directories: [String]
    let oomFile: String
    /// The worker's CPU share while it initialises and after, where the cpu controller is writable.
    let share: CPUShare.Setting?
    /// The peak file, opened once: it is read after every invocation (the REPORT's Max Memory Used).
    private let peak: Int32

    init(directories: [String], peakFile: String, oomFile: String, share: CPUShare.Setting?) {
        self.directories = directories
        self.oomFile = oomFile
        self.share = share
        peak = open(peakFile, O_RDONLY | O_CLOEXEC)
    }

    var launchArguments: [String] { directories.flatMap { ["--cgroup", $0] } }

    func attach(_ process: WorkerProcess) {}

    func peakMegabytes() -> Int? {
        CgroupFiles.readInteger(descriptor: peak).map { max(1, ($0 + (1 << 20) - 1) >> 20) }
    }

    func wasOutOfMemory() -> Bool {
        (CgroupFiles.field("oom_kill", in: oomFile) ?? 0) > 0
    }

    func initBegins() {
        if let share { try? CgroupFiles.write(String(share.initial), to: share.file) }
    }

    func initEnded() {
        if let share { try? CgroupFiles.write(String(share.value), to: share.file) }
    }

    /// Closes the peak file and removes the worker's cgroups, killing first whatever of the worker
    /// is still in them: a descendant that outlived a launcher killed from outside (by the memory
    /// limit's OOM killer, or a stray SIGKILL) is still in its cgroup, wherever it went in the tree.
    func release() {
        if peak >= 0 { close(peak) }
        for directory in directories { CgroupFiles.remove(directory, killingMembers: true) }
    }
}
