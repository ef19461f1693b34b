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
    /// NUL-terminated and each list ended by an empty one, with the descriptor `passing` (the `/tmp`
    /// volume the arguments' `--tmp-mount` names), if any, along with its first bytes. A launcher that
    /// already died is found when its output ends (as a freshly spawned one that fails).
    func order(arguments: [String], environment: [String: String], passing: Int32? = nil) {
        var bytes: [UInt8] = []
        for argument in arguments { bytes += Array(argument.utf8) + [0] }
        bytes.append(0)
        for (name, value) in environment { bytes += Array("\(name)=\(value)".utf8) + [0] }
        bytes.append(0)
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { buffer in
                Self.send(buffer[sent...], to: orders, passing: sent == 0 ? passing : nil)
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            sent += count
        }
        // The end of the order, whoever else might hold a copy of this socket.
        shutdown(orders, Int32(SHUT_WR))
        close(orders)
    }

    /// `sendmsg` of `bytes` on `socket`, with `descriptor` as one SCM_RIGHTS control message when there is one.
    private static func send(_ bytes: Slice<UnsafeRawBufferPointer>, to socket: Int32, passing descriptor: Int32?) -> Int {
        let start = bytes.base.baseAddress.map { UnsafeMutableRawPointer(mutating: $0 + bytes.startIndex) }
        var part = iovec(iov_base: start, iov_len: bytes.count)
        return withUnsafeMutablePointer(to: &part) { part in
            var message = msghdr()
            message.msg_iov = part
            message.msg_iovlen = 1
            guard let descriptor else { return sendmsg(socket, &message, Int32(MSG_NOSIGNAL)) }
            // CMSG_LEN and CMSG_SPACE of one descriptor: the header (already aligned), then the
            // descriptor, padded to the header's alignment.
            var rights = cmsghdr()
            let header = MemoryLayout<cmsghdr>.size
            (rights.cmsg_len, rights.cmsg_level, rights.cmsg_type) = (header + MemoryLayout<Int32>.size, SOL_SOCKET, Int32(SCM_RIGHTS))
            let space = header + MemoryLayout<cmsghdr>.alignment
            let control = UnsafeMutableRawPointer.allocate(byteCount: space, alignment: MemoryLayout<cmsghdr>.alignment)
            defer { control.deallocate() }
            control.initializeMemory(as: UInt8.self, repeating: 0, count: space)
            control.storeBytes(of: rights, as: cmsghdr.self)
            control.storeBytes(of: descriptor, toByteOffset: header, as: Int32.self)
            message.msg_control = control
            message.msg_controllen = space
            return sendmsg(socket, &message, Int32(MSG_NOSIGNAL))
        }
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
