import Foundation
import FunctionHostCore
import FunctionHostTesting
import Glibc
import Synchronization
import Testing

@testable import FunctionHostSupervisor

/// Set by `.ci/run` when it runs as root: a sandbox feature that falls back then fails its tests instead of skipping them.
private let sandboxRequired = ProcessInfo.processInfo.environment["FNHOST_REQUIRE_SANDBOX"] == "1"
private let launcher = LauncherLocation.path()
private let canSandbox = sandboxRequired || (geteuid() == 0 && launcher != nil)

/// Live processes whose real uid is `uid`, from `/proc`.
private func processes(ofUID uid: UInt32) -> [pid_t] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { pid_t($0) }.filter { pid in
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return false }
        let lines = status.split(separator: "\n")
        guard let state = lines.first(where: { $0.hasPrefix("State:") }), !state.contains("Z"),
            let uidLine = lines.first(where: { $0.hasPrefix("Uid:") })
        else { return false }
        return uidLine.split(whereSeparator: \.isWhitespace).dropFirst().first == Substring(String(uid))
    }
}

/// Sandboxed workers' process trees ended by the host, including at the worst moments.
@Suite(.serialized) struct WorkerProcessTests {
    @Test(.enabled(if: canSandbox, "needs root and fnhost-launch (the full sandbox)"))
    func aKillThatArrivesWhileTheLauncherIsStillStartingEndsTheWholeWorker() async throws {
        let launcher = try #require(launcher)
        let code = FileManager.default.temporaryDirectory.appendingPathComponent("fnhost-kill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: code, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: code) }
        // A function that leaves its process group at once: only a kill by uid reaches all of it.
        let arguments = ["--task-root", code.path, "--sandbox", "--", "/bin/sh", "-c", "setsid sleep 600 & exec sleep 600"]
        for delay in [0, 0, 1, 2, 5, 10, 20, 50] {
            let reason = Mutex<ExitReason?>(nil)
            let process = try WorkerProcess.start(
                launcher: launcher, arguments: arguments, environment: ["PATH": "/usr/bin:/bin"],
                lifeline: Lifeline.readDescriptor, sandboxed: true, onLine: { _ in },
                onExit: { ended in reason.withLock { $0 = ended } })
            let uid = WorkerSandbox.sandboxUIDBase + UInt32(process.pid)
            // Before the launcher has built the root (0 ms) or while it builds it, as well as later.
            if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
            process.kill()
            #expect(await eventually { reason.withLock { $0 } != nil }, "the launcher ends after \(delay) ms")
            // As today: the host sees a worker that was killed, not a launcher that failed or was terminated.
            #expect(reason.withLock { $0 } == .signaled(SIGKILL), "after \(delay) ms")
            #expect(processes(ofUID: uid).isEmpty, "uid \(uid)'s processes outlive the worker after \(delay) ms")
        }
    }

    @Test(.enabled(if: canSandbox, "needs root and fnhost-launch (the full sandbox)"))
    func theLauncherKillsEveryProcessOfTheWorkersUIDEvenOutsideItsTree() async throws {
        let launcher = try #require(launcher)
        let code = FileManager.default.temporaryDirectory.appendingPathComponent("fnhost-uid-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: code, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: code) }
        let reason = Mutex<ExitReason?>(nil)
        let process = try WorkerProcess.start(
            launcher: launcher, arguments: ["--task-root", code.path, "--sandbox", "--", "/bin/sleep", "600"],
            environment: [:], lifeline: Lifeline.readDescriptor, sandboxed: true, onLine: { _ in },
            onExit: { ended in reason.withLock { $0 = ended } })
        let uid = WorkerSandbox.sandboxUIDBase + UInt32(process.pid)
        #expect(await eventually { processes(ofUID: uid).count == 1 }, "the function runs as uid \(uid)")
        // A process of the worker's uid that is not below the launcher, as nothing of the worker's own
        // making can be: only the kill by uid reaches it.
        let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer { close(null) }
        let outsider = try ProcessSpawner.spawn(
            ["/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", "/bin/sleep", "600"],
            environment: [:], output: null)
        defer {
            kill(outsider, SIGKILL)
            var status: Int32 = 0
            while waitpid(outsider, &status, 0) < 0 && errno == EINTR {}
        }
        #expect(await eventually { processes(ofUID: uid).contains(outsider) }, "the outsider runs as uid \(uid)")
        process.kill()
        #expect(await eventually { reason.withLock { $0 } != nil })
        #expect(reason.withLock { $0 } == .signaled(SIGKILL))
        #expect(processes(ofUID: uid).isEmpty, "uid \(uid)'s processes outlive the worker")
    }
}
