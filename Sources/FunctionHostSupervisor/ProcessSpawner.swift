import Foundation
import Glibc

/// Starts processes with `posix_spawn`, so no Swift code runs between fork and exec.
///
/// Every child gets `/dev/null` on stdin, the given descriptor on stdout and stderr, only
/// the environment it is given, and its own process group (its pid), so a signal to the
/// group reaches its whole tree.
enum ProcessSpawner {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// - Parameter extraDescriptors: host descriptors to make visible to the child at the same number.
    static func spawn(
        _ argv: [String], environment: [String: String], output: Int32, extraDescriptors: [Int32] = []
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
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var defaultSignals = sigset_t()
        sigfillset(&defaultSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

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

    /// Runs a short command to completion and returns its standard output, or `nil` if it failed.
    static func capture(_ argv: [String], environment: [String: String]) -> String? {
        guard let pipe = makeClosedOnExecPipe() else { return nil }
        let pid: pid_t
        do {
            pid = try spawn(argv, environment: environment, output: pipe.write)
        } catch {
            close(pipe.read)
            close(pipe.write)
            return nil
        }
        close(pipe.write)
        let output = FileHandle(fileDescriptor: pipe.read, closeOnDealloc: true).readDataToEndOfFile()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else { return nil }
        return String(decoding: output, as: UTF8.self)
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
