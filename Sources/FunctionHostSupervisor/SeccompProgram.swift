import Glibc
import Synchronization

/// The launcher's seccomp policy, compiled once per host: every launcher gets it as an inherited
/// descriptor (`fnhost-launch --seccomp-program FD`) and loads it, instead of compiling the same
/// filters with libseccomp on every cold start (≈ 2 ms of CPU each; loading takes microseconds).
///
/// `fnhost-launch --export-seccomp` writes it into a root-only file that is unlinked at once; the
/// host keeps only a read-only descriptor of it, so nothing can change what launchers load. The
/// launcher checks its form and fails the worker's start if it is damaged. One program per launcher
/// path and process (tests start many hosts in one process).
public struct SeccompProgram: Sendable, Hashable {
    /// Read-only, close-on-exec; open for the life of the process.
    public let descriptor: Int32

    private static let compiled = Mutex<[String: SeccompProgram]>([:])

    /// The program `launcher` compiles, made on the first call for that launcher.
    /// - Throws: why it could not be made (the launcher's own `fnhost-launch: ...` line, or the errno);
    ///   its description says so.
    public static func compile(launcher: String) throws -> SeccompProgram {
        try compiled.withLock {
            (programs: inout [String: SeccompProgram]) throws(ProcessSpawner.Failure) -> SeccompProgram in
            if let program = programs[launcher] { return program }
            let program = try export(launcher)
            programs[launcher] = program
            return program
        }
    }

    private static func export(_ launcher: String) throws(ProcessSpawner.Failure) -> SeccompProgram {
        var name = Array("/tmp/fnhost-seccomp-XXXXXX".utf8CString)
        let writable = name.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.map { mkstemp($0) } ?? -1
        }
        guard writable >= 0 else { throw failure("cannot create the seccomp program's file") }
        _ = fcntl(writable, F_SETFD, FD_CLOEXEC)
        defer { close(writable) }
        name.withUnsafeBufferPointer { buffer in _ = buffer.baseAddress.map { unlink($0) } }
        let pid = try ProcessSpawner.spawn([launcher, "--export-seccomp"], environment: [:], output: writable)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw failure("cannot wait for \(launcher) --export-seccomp") }
        }
        guard status == 0 else {
            // The launcher's failure line went to the same file.
            var message = [UInt8](repeating: 0, count: 512)
            let count = message.withUnsafeMutableBytes { pread(writable, $0.baseAddress, $0.count, 0) }
            let text = String(decoding: message.prefix(max(0, count)), as: UTF8.self)
            throw ProcessSpawner.Failure(
                description:
                    "\(launcher) --export-seccomp failed (status \(status)): \(text.split(separator: "\n").first ?? "")"
            )
        }
        let readOnly = open("/proc/self/fd/\(writable)", O_RDONLY | O_CLOEXEC)
        guard readOnly >= 0 else { throw failure("cannot reopen the seccomp program read-only") }
        return SeccompProgram(descriptor: readOnly)
    }

    private static func failure(_ what: String) -> ProcessSpawner.Failure {
        ProcessSpawner.Failure(description: "\(what): \(String(cString: strerror(errno)))")
    }
}
