import Foundation
import Glibc

/// Starts processes with `posix_spawn`, so no Swift code runs between fork and exec.
///
/// Every child gets `/dev/null` on stdin, the given descriptor on stdout and stderr, only
/// the environment it is given, and a session of its own: no controlling terminal (a worker
/// cannot push keystrokes into the developer's shell or read from it), and its own process group
/// (its pid).
enum ProcessSpawner {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// - Parameters:
    ///   - extraDescriptors: host descriptors to make visible to the child at the same number.
    ///   - blockedSignals: signals the child starts with blocked (every other one unblocked and at its default).
    static func spawn(
        _ argv: [String], environment: [String: String], output: Int32, extraDescriptors: [Int32] = [],
        blockedSignals: [Int32] = []
    ) throws(Failure) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, output, 2)
        for descriptor in extraDescriptors {
            // dup2 onto itself clears close-on-exec for the child only (glibc ≥ 2.29).
            posix_spawn_file_actions_adddup2(&actions, descriptor, descriptor)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var blocked = sigset_t()
        sigemptyset(&blocked)
        for signal in blockedSignals { sigaddset(&blocked, signal) }
        var defaultSignals = sigset_t()
        sigfillset(&defaultSignals)
        posix_spawnattr_setsigmask(&attributes, &blocked)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setflags(
            &attributes, Int16(spawnSetSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let arguments = argv.map { strdup($0) } + [nil]
        let variables = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            arguments.forEach { free($0) }
            variables.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, argv[0], &actions, &attributes, arguments, variables)
        guard status == 0 else {
            throw Failure(description: "cannot start \(argv[0]): \(String(cString: strerror(status)))")
        }
        return pid
    }

    /// Runs a short command (a probe, `unzip`) to completion: its exit status (128 + N for
    /// signal N) and its merged stdout and stderr.
    static func run(_ argv: [String], environment: [String: String] = ["PATH": "/usr/bin:/bin"]) -> (
        status: Int32, output: String
    ) {
        guard let pipe = makeClosedOnExecPipe() else { return (-1, "cannot create a pipe") }
        let pid: pid_t
        do {
            pid = try spawn(argv, environment: environment, output: pipe.write)
        } catch {
            close(pipe.read)
            close(pipe.write)
            return (-1, error.description)
        }
        close(pipe.write)
        let output = readToEnd(pipe.read)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exitStatus, String(decoding: output, as: UTF8.self))
    }

    /// The standard output of a short command that succeeded, else `nil`.
    static func capture(_ argv: [String], environment: [String: String]) -> String? {
        let result = run(argv, environment: environment)
        return result.status == 0 ? result.output : nil
    }
}

/// glibc's `POSIX_SPAWN_SETSID` (since 2.26): the child calls `setsid()`. Swift's Glibc module
/// hides it behind `_GNU_SOURCE`.
private let spawnSetSID: Int32 = 0x80

/// Reads a descriptor until EOF and closes it, retrying on EINTR (FileHandle's reader traps on it).
private func readToEnd(_ descriptor: Int32) -> [UInt8] {
    defer { close(descriptor) }
    var output: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        guard count > 0 else { return output }
        output.append(contentsOf: buffer[..<count])
    }
}

/// `pipe` with both ends close-on-exec. (`pipe2` is hidden from Swift's Glibc module; the
/// brief window before `FD_CLOEXEC` is harmless because the launcher closes stray descriptors.)
func makeClosedOnExecPipe() -> (read: Int32, write: Int32)? {
    var ends: [Int32] = [0, 0]
    guard pipe(&ends) == 0 else { return nil }
    for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
    return (ends[0], ends[1])
}
