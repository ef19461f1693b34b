import Foundation
import Logging

/// How the host holds workers to their `MemorySize` (and CPU share), chosen once at start-up:
/// a cgroup v2 or v1 memory controller where one can be written, else RSS polling.
///
/// Owns the host's cgroup directory (`fnhost-PID-N` beside the host's own cgroup); ``shutdown()``
/// removes it, and start-up removes those of hosts that died without doing so.
public struct MemoryEnforcement: Sendable {
    /// The enforcement in force.
    public enum Kind: String, Sendable, CaseIterable {
        case cgroupV2 = "cgroup-v2"
        case cgroupV1 = "cgroup-v1"
        case rssPolling = "rss"
    }

    public let kind: Kind
    /// Whether workers also get a CPU share in proportion to memory (cpu controller available).
    public let cpuShare: Bool
    private let control: any ResourceControl

    private init(_ control: any ResourceControl) {
        self.control = control
        self.kind = control.kind
        self.cpuShare = control.cpuShare
    }

    /// Picks the strongest enforcement this machine allows, or `preferred` when it is available.
    /// Never throws: where no cgroup can be written the answer is RSS polling.
    public static func probe(preferred: Kind? = nil, logger: Logger) -> MemoryEnforcement {
        let order: [Kind] = preferred.map { [$0] } ?? [.cgroupV2, .cgroupV1]
        for kind in order {
            switch kind {
            case .cgroupV2:
                if let control = CgroupV2Control.make(logger: logger) { return MemoryEnforcement(control) }
            case .cgroupV1:
                if let control = CgroupV1Control.make(logger: logger) { return MemoryEnforcement(control) }
            case .rssPolling:
                break
            }
        }
        return MemoryEnforcement(RSSPollingControl())
    }

    /// The one start-up warning, when limits are not enforced by the kernel; else `nil`.
    public var warning: String? {
        kind == .rssPolling
            ? "no writable cgroup memory controller: MemorySize is enforced by polling each worker's RSS every 50 ms (short spikes can pass; Max Memory Used is the sampled peak)"
            : nil
    }

    /// One line saying what is in force.
    public var summary: String {
        switch kind {
        case .cgroupV2: "memory: cgroup v2 memory.max (swap off)" + (cpuShare ? ", cpu.weight by memory" : "")
        case .cgroupV1: "memory: cgroup v1 memory.limit_in_bytes" + (cpuShare ? ", cpu.shares by memory" : "")
        case .rssPolling: "memory: RSS polling every 50 ms"
        }
    }

    func makeWorkerResources(memoryMegabytes: Int, logger: Logger) -> (any WorkerResources)? {
        do {
            return try control.makeWorker(memoryMegabytes: memoryMegabytes)
        } catch {
            logger.error("worker cgroup could not be created", metadata: ["error": "\(error)"])
            return RSSPollingControl.shared.makeWorkerResources(memoryMegabytes: memoryMegabytes)
        }
    }

    /// A worker's cgroups, made ahead for a standby launcher to join; throws where they cannot be made.
    func makeCgroups(memoryMegabytes: Int) throws -> any WorkerResources {
        try control.makeWorker(memoryMegabytes: memoryMegabytes)
    }

    /// Removes the host's cgroup directories (workers must have been stopped).
    public func shutdown() { control.shutdown() }
}

/// One way of constraining workers (a backend of ``MemoryEnforcement``).
protocol ResourceControl: Sendable {
    var kind: MemoryEnforcement.Kind { get }
    var cpuShare: Bool { get }
    func makeWorker(memoryMegabytes: Int) throws -> any WorkerResources
    func shutdown()
}

/// Lambda's CPU rule: one full vCPU at 1769 MB, in proportion below and above, once initialised.
enum CPUShare {
    static let megabytesPerCPU = 1769

    /// A worker cgroup's share, written to `file`: `initial` (at least a whole CPU's) while the
    /// worker initialises, as Lambda's init runs with burst CPU, `value` (its memory's) otherwise.
    struct Setting: Sendable {
        let file: String
        let value: Int
        let initial: Int
    }

    /// cgroup v1 `cpu.shares` for a worker of `memoryMegabytes`, written to `file`.
    static func sharesSetting(file: String, memoryMegabytes: Int) -> Setting {
        let value = shares(memoryMegabytes: memoryMegabytes)
        return Setting(file: file, value: value, initial: max(shares(memoryMegabytes: megabytesPerCPU), value))
    }

    /// cgroup v2 `cpu.weight` for a worker of `memoryMegabytes`, written to `file`.
    static func weightSetting(file: String, memoryMegabytes: Int) -> Setting {
        let value = weight(memoryMegabytes: memoryMegabytes)
        return Setting(file: file, value: value, initial: max(weight(memoryMegabytes: megabytesPerCPU), value))
    }

    /// cgroup v1 `cpu.shares` (1024 = one CPU's worth).
    static func shares(memoryMegabytes: Int) -> Int { max(2, memoryMegabytes * 1024 / megabytesPerCPU) }

    /// cgroup v2 `cpu.weight` (100 = one CPU's worth; 1–10000).
    static func weight(memoryMegabytes: Int) -> Int { min(10000, max(1, memoryMegabytes * 100 / megabytesPerCPU)) }
}
