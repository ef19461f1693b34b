import Foundation
import Glibc
import Synchronization

/// Best-effort memory enforcement where no cgroup can be written: one thread samples the
/// resident memory of every worker's process tree every 50 ms and kills a tree over its
/// limit. Short spikes between samples can pass; the peak is the sampled peak.
final class RSSPollingControl: ResourceControl, Sendable {
    let kind = MemoryEnforcement.Kind.rssPolling
    let cpuShare = false
    /// Shared by every host in the process (one sampling thread).
    static let shared = RSSPollingControl()
    static let interval: useconds_t = 50_000

    private let watched = Mutex<[pid_t: RSSWatch]>([:])
    private let started = Atomic<Bool>(false)

    func makeWorker(memoryMegabytes: Int) throws -> any WorkerResources {
        makeWorkerResources(memoryMegabytes: memoryMegabytes)
    }

    func makeWorkerResources(memoryMegabytes: Int) -> RSSWatch {
        RSSWatch(limitKilobytes: memoryMegabytes * 1024, control: self)
    }

    func shutdown() {}

    fileprivate func watch(_ watch: RSSWatch, pid: pid_t) {
        watched.withLock { $0[pid] = watch }
        if !started.exchange(true, ordering: .acquiringAndReleasing) {
            let thread = Thread { [self] in
                while true {
                    usleep(Self.interval)
                    sample()
                }
            }
            thread.name = "fnhost-rss-poller"
            thread.stackSize = 128 * 1024
            thread.start()
        }
    }

    fileprivate func unwatch(pid: pid_t) {
        _ = watched.withLock { $0.removeValue(forKey: pid) }
    }

    private func sample() {
        let current = watched.withLock { $0 }
        for (pid, watch) in current {
            let kilobytes = Self.treeResidentKilobytes(root: pid)
            watch.observe(kilobytes: kilobytes)
        }
    }

    /// VmRSS of the launcher's descendants (the launcher itself is a few hundred kB and not the function).
    static func treeResidentKilobytes(root: pid_t) -> Int {
        var total = 0
        var stack = children(of: root)
        var seen = 0
        while let pid = stack.popLast(), seen < 4096 {
            seen += 1
            if let status = CgroupFiles.read("/proc/\(pid)/status") {
                for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
                    total += Int(line.split(whereSeparator: \.isWhitespace).dropFirst().first ?? "0") ?? 0
                }
            }
            stack += children(of: pid)
        }
        return total
    }

    private static func children(of pid: pid_t) -> [pid_t] {
        (CgroupFiles.read("/proc/\(pid)/task/\(pid)/children") ?? "").split(separator: " ").compactMap { pid_t($0) }
    }
}

/// One worker watched by ``RSSPollingControl``.
final class RSSWatch: WorkerResources, Sendable {
    private let limitKilobytes: Int
    private let control: RSSPollingControl
    private struct State {
        var process: WorkerProcess?
        var peakKilobytes = 0
        var killed = false
    }
    private let state = Mutex(State())

    fileprivate init(limitKilobytes: Int, control: RSSPollingControl) {
        self.limitKilobytes = limitKilobytes
        self.control = control
    }

    var launchArguments: [String] { [] }

    func attach(_ process: WorkerProcess) {
        state.withLock { $0.process = process }
        control.watch(self, pid: process.pid)
    }

    fileprivate func observe(kilobytes: Int) {
        let over = state.withLock { state -> WorkerProcess? in
            state.peakKilobytes = max(state.peakKilobytes, kilobytes)
            guard kilobytes > limitKilobytes, !state.killed else { return nil }
            state.killed = true
            return state.process
        }
        over?.kill()
    }

    func peakMegabytes() -> Int? {
        // Sample once more now: the last allocation may have come after the poller's last look.
        if let pid = state.withLock({ $0.killed ? nil : $0.process?.pid }) {
            observe(kilobytes: RSSPollingControl.treeResidentKilobytes(root: pid))
        }
        let peak = state.withLock { $0.peakKilobytes }
        return peak > 0 ? (peak + 1023) / 1024 : nil
    }

    func wasOutOfMemory() -> Bool { state.withLock { $0.killed } }

    func initBegins() {}

    func initEnded() {}

    func release() {
        if let pid = state.withLock({ $0.process?.pid }) { control.unwatch(pid: pid) }
    }
}
