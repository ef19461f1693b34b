import Glibc

/// One `fnhost-launch --standby` process: spawned ahead into its worker's cgroups (joining one
/// waits for an RCU grace period, 5-40 ms on this machine), it waits for its order — the rest of
/// its arguments and its environment — and then starts the worker as a freshly spawned launcher
/// would. Owned by ``StandbyLaunchers`` until taken; then by the worker it becomes.
final class StandbyLauncher: Sendable {
    let pid: pid_t
    let megabytes: Int
    /// The worker's cgroups, which the launcher has joined (or is joining).
    let resources: any WorkerResources
    /// Read end of the launcher's merged stdout and stderr.
    let output: Int32
    /// The host's end of the socket the order goes through.
    private let orders: Int32

    /// Spawns `launcher --standby` in `resources`; it inherits `lifeline` and `inherited`, which
    /// `options` (the seccomp policy, read before the launcher waits) name.
    init(
        launcher: String, megabytes: Int, resources: any WorkerResources, lifeline: Int32, inherited: [Int32],
        options: [String]
    ) throws(ProcessSpawner.Failure) {
        var ends: [Int32] = [0, 0]
        // Close-on-exec from the start: a launcher another thread spawns meanwhile must not inherit it.
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
            throw ProcessSpawner.Failure(
                description: "cannot create a socket pair: \(String(cString: strerror(errno)))")
        }
        guard let pipe = makeClosedOnExecPipe() else {
            ends.forEach { close($0) }
            throw ProcessSpawner.Failure(description: "cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        let argv =
            [launcher, "--lifeline", String(lifeline)] + resources.launchArguments + options
            + ["--standby", String(ends[1])]
        do {
            pid = try ProcessSpawner.spawn(
                argv, environment: [:], output: pipe.write, extraDescriptors: [lifeline] + inherited + [ends[1]],
                blockedSignals: [WorkerProcess.endRequest])
        } catch {
            ends.forEach { close($0) }
            close(pipe.read)
            close(pipe.write)
            throw error
        }
        close(ends[1])
        close(pipe.write)
        self.megabytes = megabytes
        self.resources = resources
        output = pipe.read
        orders = ends[0]
    }

    /// Sends the order: `arguments` (options but the cgroups and the seccomp policy, `--`, the command) and `environment`, each string
    /// NUL-terminated and each list ended by an empty one. A launcher that already died is found
    /// when its output ends (as a freshly spawned one that fails).
    func order(arguments: [String], environment: [String: String]) {
        var bytes: [UInt8] = []
        for argument in arguments { bytes += Array(argument.utf8) + [0] }
        bytes.append(0)
        for (name, value) in environment { bytes += Array("\(name)=\(value)".utf8) + [0] }
        bytes.append(0)
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { buffer in
                buffer.baseAddress.map { send(orders, $0 + sent, buffer.count - sent, Int32(MSG_NOSIGNAL)) } ?? -1
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            sent += count
        }
        // The end of the order, whoever else might hold a copy of this socket.
        shutdown(orders, Int32(SHUT_WR))
        close(orders)
    }

    /// Ends a launcher that was never ordered: without an order it exits; then its cgroups go.
    func discard() {
        close(orders)
        close(output)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        resources.release()
    }
}
