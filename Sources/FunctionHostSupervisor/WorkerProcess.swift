import FunctionHostCore
import Foundation
import Glibc
import NIOCore
import Synchronization

/// One worker's process tree, started through `fnhost-launch`, with its output captured.
///
/// A dedicated thread reads the merged stdout/stderr line by line until every process of the
/// tree has closed it, then reaps the launcher and reports how it ended. Output without a
/// trailing newline waits for the rest of its line until ``flushPartialLine()`` (the end of an
/// invocation) emits it. ``kill()`` ends the whole tree, including descendants that left the
/// function's process group.
final class WorkerProcess: Sendable {
    let pid: pid_t
    /// Whether the launcher runs as root and the function under a uid of its own (the full sandbox):
    /// then the function cannot signal the launcher, which ends the whole tree when asked.
    private let sandboxed: Bool
    private let outputDescriptor: Int32
    private let onLine: @Sendable (String) -> Void
    /// Output after the last newline; the reader thread and ``flushPartialLine()`` take turns on it.
    private let partial = Mutex<[UInt8]>([])
    /// Bytes of output the reader thread has taken from the pipe so far.
    private let received = Atomic<Int>(0)
    /// Bytes of output whose lines the reader thread has emitted so far.
    private let consumed = Atomic<Int>(0)
    /// Descriptor of the child's `/proc/PID/status`, or one of the markers below.
    private let memoryStatus = Mutex<Int32>(WorkerProcess.notOpened)
    /// True once the launcher is reaped and its pid free for another process: ``kill()`` signals
    /// only under this lock while it is false, so never a stranger that got the pid.
    private let reaped = Mutex(false)
    private static let notOpened: Int32 = -1
    private static let unavailable: Int32 = -2

    /// Longest log line kept whole (CloudWatch's event limit); longer output is split.
    static let maximumLineLength = 256 * 1024

    /// Status with which `fnhost-launch` reports its own failures.
    static let launchFailureStatus: Int32 = 121

    /// The signal with which the host asks `fnhost-launch` to end its worker; launchers are spawned
    /// with it blocked, so it waits for the launcher to watch for it and never kills it unread.
    static let endRequest = SIGTERM

    private init(pid: pid_t, sandboxed: Bool, outputDescriptor: Int32, onLine: @escaping @Sendable (String) -> Void) {
        self.pid = pid
        self.sandboxed = sandboxed
        self.outputDescriptor = outputDescriptor
        self.onLine = onLine
    }

    /// Spawns `launcher` with `arguments`; `onLine` gets each output line, `onExit` the reason once.
    /// The launcher inherits `lifeline` and `inherited` (descriptors its arguments name); `sandboxed`:
    /// its arguments ask for the full sandbox.
    static func start(
        launcher: String, arguments: [String], environment: [String: String], lifeline: Int32,
        inherited: [Int32] = [], sandboxed: Bool, onLine: @escaping @Sendable (String) -> Void,
        onExit: @escaping @Sendable (ExitReason) -> Void
    ) throws -> WorkerProcess {
        guard let pipe = makeClosedOnExecPipe() else {
            throw ProcessSpawner.Failure(description: "cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        let pid: pid_t
        do {
            pid = try ProcessSpawner.spawn(
                [launcher, "--lifeline", String(lifeline)] + arguments, environment: environment, output: pipe.write,
                extraDescriptors: [lifeline] + inherited, blockedSignals: [endRequest])
        } catch {
            close(pipe.read)
            close(pipe.write)
            throw error
        }
        close(pipe.write)
        return watch(pid: pid, sandboxed: sandboxed, output: pipe.read, onLine: onLine, onExit: onExit)
    }

    /// Gives a standby launcher its order (`arguments` after its cgroup options, `environment`, and
    /// the descriptor `passing`, if any) and takes it over as the worker's process tree.
    static func adopt(
        _ standby: StandbyLauncher, arguments: [String], environment: [String: String], passing: Int32? = nil,
        sandboxed: Bool, onLine: @escaping @Sendable (String) -> Void, onExit: @escaping @Sendable (ExitReason) -> Void
    ) -> WorkerProcess {
        standby.order(arguments: arguments, environment: environment, passing: passing)
        return watch(pid: standby.pid, sandboxed: sandboxed, output: standby.output, onLine: onLine, onExit: onExit)
    }

    /// Starts the thread that reads `output` until every process of the tree closed it, then reaps `pid`.
    private static func watch(
        pid: pid_t, sandboxed: Bool, output: Int32, onLine: @escaping @Sendable (String) -> Void,
        onExit: @escaping @Sendable (ExitReason) -> Void
    ) -> WorkerProcess {
        let process = WorkerProcess(pid: pid, sandboxed: sandboxed, outputDescriptor: output, onLine: onLine)
        let thread = Thread {
            process.readOutput()
            onExit(process.reap())
        }
        thread.name = "fnhost-worker-\(pid)"
        thread.stackSize = 256 * 1024
        thread.start()
        return process
    }

    /// Ends the whole process tree. Sandboxed, the launcher does it when asked (``endRequest``): it
    /// kills every process of the worker's uid, reaps them, and exits as the function did (SIGKILL).
    /// Otherwise the function shares the host's uid and could have stopped or killed its launcher, so
    /// the host kills every descendant of the launcher itself (a subreaper, so a `setsid()`'d or
    /// double-forked process is still below it while it lives), then the launcher.
    func kill() {
        reaped.withLock { reaped in
            guard !reaped else { return }
            guard !sandboxed else {
                Glibc.kill(pid, Self.endRequest)
                return
            }
            for _ in 0..<Self.sweepRounds {
                let found = Self.liveDescendants(of: pid)
                if found.isEmpty { break }
                for descendant in found { Glibc.kill(descendant, SIGKILL) }
            }
            Glibc.kill(pid, SIGKILL)
        }
    }

    /// Passes over the tree; each one kills what forked since the last (a fork bomb is capped by RLIMIT_NPROC).
    private static let sweepRounds = 8

    /// The launcher's descendants that are not yet zombies, read from `/proc/PID/task/TID/children`.
    static func liveDescendants(of root: pid_t) -> [pid_t] {
        var found: [pid_t] = []
        var pending = [root]
        while let parent = pending.popLast() {
            guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(parent)/task") else { continue }
            for task in tasks {
                guard let children = try? String(contentsOfFile: "/proc/\(parent)/task/\(task)/children", encoding: .utf8)
                else { continue }
                for child in children.split(separator: " ").compactMap({ pid_t($0) }) where !isZombie(child) {
                    found.append(child)
                    pending.append(child)
                }
            }
        }
        return found
    }

    private static func isZombie(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
    }

    /// Calls `then` once output already written to the pipe has been emitted (at most 100 ms
    /// later), so an invocation's last lines land before its END line: at once when nothing is
    /// pending, as on every invoke whose function wrote nothing, else polling on `loop`.
    ///
    /// Output is either still in the pipe (`FIONREAD`) or taken by the reader but not yet
    /// emitted (`received - consumed`); the snapshot is retried until the reader did not
    /// move between its two halves, so no byte is counted in neither.
    func drainOutput(on loop: any EventLoop, then: @escaping @Sendable () -> Void) {
        var snapshot = 0
        while true {
            let before = received.load(ordering: .acquiring)
            var pending: Int32 = 0
            guard ioctl(outputDescriptor, UInt(FIONREAD), &pending) == 0 else { return then() }
            if received.load(ordering: .acquiring) == before {
                snapshot = before + Int(pending)
                break
            }
        }
        let target = snapshot
        let deadline = NIODeadline.now() + .milliseconds(100)
        @Sendable func check() {
            guard consumed.load(ordering: .acquiring) < target, NIODeadline.now() < deadline else { return then() }
            loop.scheduleTask(in: .microseconds(200), check)
        }
        check()
    }

    /// Peak resident memory of the function's process in MB (`VmHWM` of the launcher's child);
    /// `nil` when there is nothing to measure (the process is gone).
    ///
    /// Runs on every invocation, so `/proc/CHILD/status` is opened once and re-read with `pread`.
    func peakMemoryMegabytes() -> Int? {
        memoryStatus.withLock { descriptor in
            if descriptor == Self.notOpened { descriptor = openChildStatus() }
            guard descriptor >= 0 else { return nil }
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2048) { buffer in
                let count = pread(descriptor, buffer.baseAddress, buffer.count, 0)
                guard count > 0 else { return nil }
                return max(1, (Self.kilobytes(of: "VmHWM:", in: UnsafeBufferPointer(rebasing: buffer[..<count])) + 1023) / 1024)
            }
        }
    }

    private func openChildStatus() -> Int32 {
        guard let children = try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8),
            let child = children.split(separator: " ").first
        else { return Self.notOpened }
        let descriptor = open("/proc/\(child)/status", O_RDONLY | O_CLOEXEC)
        return descriptor >= 0 ? descriptor : Self.unavailable
    }

    /// The number after `field` in a `/proc/PID/status` text (kB), or 0.
    static func kilobytes(of field: StaticString, in text: UnsafeBufferPointer<UInt8>) -> Int {
        let key = UnsafeBufferPointer(start: field.utf8Start, count: field.utf8CodeUnitCount)
        var index = 0
        while index + key.count <= text.count {
            if (index == 0 || text[index - 1] == UInt8(ascii: "\n")) && text[index..<(index + key.count)].elementsEqual(key) {
                var value = 0
                var cursor = index + key.count
                while cursor < text.count, text[cursor] == UInt8(ascii: " ") || text[cursor] == UInt8(ascii: "\t") {
                    cursor += 1
                }
                while cursor < text.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[cursor]) {
                    value = value * 10 + Int(text[cursor] - UInt8(ascii: "0"))
                    cursor += 1
                }
                return value
            }
            index += 1
        }
        return 0
    }

    /// Emits output the function wrote without a trailing newline, so that it belongs to the
    /// invocation that wrote it (call after ``drainOutput(on:then:)``) instead of being glued to the next one.
    func flushPartialLine() {
        partial.withLock { partial in
            guard !partial.isEmpty else { return }
            onLine(String(decoding: partial, as: UTF8.self))
            partial.removeAll(keepingCapacity: true)
        }
    }

    /// Bytes taken from the pipe per read. Small on purpose: a burst of 1,000 workers holds 1,000 of
    /// these buffers (a 64 KB one made half of the host's memory per worker); a chatty function costs a
    /// few more reads.
    private static let readChunk = 8 * 1024

    private func readOutput() {
        defer { close(outputDescriptor) }
        // On this thread's own stack: touched once, freed with the thread.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.readChunk) { buffer in
            while true {
                let count = read(outputDescriptor, buffer.baseAddress, buffer.count)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                received.add(count, ordering: .releasing)
                partial.withLock { partial in
                    var start = 0
                    for index in 0..<count where buffer[index] == UInt8(ascii: "\n") {
                        partial.append(contentsOf: buffer[start..<index])
                        onLine(String(decoding: partial, as: UTF8.self))
                        partial.removeAll(keepingCapacity: true)
                        start = index + 1
                    }
                    partial.append(contentsOf: buffer[start..<count])
                    if partial.count >= Self.maximumLineLength {
                        // A function that never writes a newline must not grow the host's memory without bound.
                        onLine(String(decoding: partial, as: UTF8.self))
                        partial.removeAll(keepingCapacity: true)
                    }
                }
                consumed.add(count, ordering: .releasing)
            }
        }
        flushPartialLine()
    }

    private func reap() -> ExitReason {
        // Waits for the exit without reaping: the zombie keeps the pid while `kill()` may still use it.
        var exited = siginfo_t()
        while waitid(P_PID, id_t(pid), &exited, WEXITED | WNOWAIT) < 0 {
            guard errno == EINTR else { break }
        }
        var status: Int32 = 0
        let waited = reaped.withLock { reaped in
            reaped = true
            while waitpid(pid, &status, 0) < 0 {
                guard errno == EINTR else { return false }
            }
            return true
        }
        guard waited else { return .exited(status: -1) }
        memoryStatus.withLock { descriptor in
            if descriptor >= 0 { close(descriptor) }
            descriptor = Self.unavailable
        }
        let signal = status & 0x7f
        return signal == 0 ? .exited(status: (status >> 8) & 0xff) : .signaled(signal)
    }
}
