import CLoopVolume
import Foundation
import Glibc
import Logging
import Synchronization

/// Disk-backed `/tmp` for sandboxed workers, as Lambda's `/tmp` is disk sized by `EphemeralStorage`.
///
/// Each worker gets an ext4 image of its own, loop-mounted by the host ahead of need as a
/// *detached* mount (`fsmount`: in no mount namespace) whose descriptor the launcher attaches at
/// the worker's `/tmp` (`--tmp-mount FD`), so a cold start only moves a mount. Writing past the size
/// fails with `ENOSPC`, and what a function writes there is page cache its memory limit can reclaim
/// — not tmpfs pages, which would OOM-kill a 128 MB function that downloads 200 MB to `/tmp`.
///
/// No volume is ever mounted in the host's namespace, so the namespace every launcher copies stays
/// as small with a thousand workers as with one (each copy of it, and the kernel's mount lock, used
/// to grow with every volume). The image's name is removed once its loop device holds it: a volume
/// is only descriptors, and the kernel frees filesystem, device and disk space when the host's
/// descriptor is closed (after the worker, or when a killed host's descriptors go) and the worker's
/// namespace is gone. A volume serves one worker: no file of one worker is ever seen by another.
/// One spare per size in use is kept ready. The filesystem work (copying the size's freshly made
/// template image, attaching a loop device, mounting) runs on threads of this object's own, never
/// on Swift's task threads. Images a killed host left half made are removed when the next one starts.
public final class ScratchVolumes: Sendable {
    /// One volume: `descriptor` is its detached mount (close-on-exec), attached at the worker's `/tmp`.
    struct Volume: Sendable, Hashable {
        let megabytes: Int
        let descriptor: Int32
    }

    /// The reason volumes cannot be made here, or `nil` when they can (root, `/dev/loop-control`,
    /// `mkfs.ext4`, detached ext4 mounts): what the start-up warning names when `/tmp` falls back to a tmpfs.
    public static func unavailability() -> String? {
        guard geteuid() == 0 else { return "not running as root" }
        guard access("/dev/loop-control", R_OK | W_OK) == 0 else { return "no /dev/loop-control (loop devices)" }
        guard mkfs != nil else { return "mkfs.ext4 not found (Debian package e2fsprogs)" }
        let detached = fnhost_detached_ext4_available()
        guard detached == 0 else {
            return "the kernel cannot mount ext4 detached (fsopen: \(String(cString: strerror(-detached))); Linux 5.2 or later)"
        }
        return nil
    }

    /// Why a `/tmp` volume could not be made.
    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// As root, moves this process into a mount namespace of its own (receiving the machine's
    /// mounts), so the volumes it mounts are seen by nobody else and vanish with it, even after
    /// `kill -9`. Works only while the process is single-threaded: call it first thing in `main`.
    /// Without it (not root, or too late) volumes a killed host leaves stay mounted until
    /// ``sweep(_:)`` at the next start.
    public static func isolateMounts() {
        guard geteuid() == 0 else { return }
        _ = fnhost_private_mount_namespace()
    }

    private static let mkfs: String? = ["/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4"].first { (path: String) in access(path, X_OK) == 0 }

    /// Threads preparing and destroying volumes. The kernel's loop and mount work mostly waits, so
    /// a burst of cold starts goes several times faster with a few in parallel (16 volumes on this
    /// 2-core machine under load: 112 ms in parallel against 574 ms one after another); beyond four
    /// the kernel serialises them (200 volumes: ≈ 1.2 ms each with 4, 16 or 32 threads).
    private static let threadCount = 4

    private struct State {
        var ready: [Int: [Volume]] = [:]
        /// Spares of each size being prepared.
        var preparing: [Int: Int] = [:]
        var waiting: [(megabytes: Int, continuation: CheckedContinuation<Volume, any Error>)] = []
        var inUse: Set<Volume> = []
        var released: [Volume] = []
        var spareSizes: Set<Int>
        var nextID = 0
        var stopping: CheckedContinuation<Void, Never>?
        var stopped = false
        var threadsRunning = ScratchVolumes.threadCount
    }

    private let directory: String
    private let logger: Logger
    private let state: Mutex<State>
    private let wake = DispatchSemaphore(value: 0)
    /// The template image of each size, once made (made under this lock: once, by one thread).
    private let templates = Mutex<[Int: String]>([:])

    /// Starts preparing one spare volume of each size in `sizes` (MB) in `directory` (created).
    public init(directory: String, sizes: Set<Int>, logger: Logger) throws {
        self.directory = directory
        self.logger = logger
        state = Mutex(State(spareSizes: sizes))
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for _ in 0..<Self.threadCount {
            let thread = Thread { [self] in work() }
            thread.name = "fnhost scratch volumes"
            thread.start()
        }
        wake.signal()
    }

    /// A volume of `megabytes` for one worker; give it back with ``release(_:)`` once its launcher
    /// has it (or will not start).
    func take(megabytes: Int) async throws -> Volume {
        try await withCheckedThrowingContinuation { continuation in
            let taken: Result<Volume, Failure>? = state.withLock { state in
                guard !state.stopped else { return .failure(Failure("the host is stopping")) }
                state.spareSizes.insert(megabytes)
                guard let volume = state.ready[megabytes]?.popLast() else {
                    state.waiting.append((megabytes, continuation))
                    return nil
                }
                state.inUse.insert(volume)
                return .success(volume)
            }
            if let taken { continuation.resume(with: taken) }
            wake.signal()
        }
    }

    /// Closes the host's descriptor of a volume (in the background): what the worker attached
    /// lives on with its mount namespace, and the kernel frees the rest after it. The last close
    /// tears the filesystem down, syncs it and frees the image's blocks (≈ 0.7 ms of kernel work):
    /// never on the caller's thread, which may be one of Swift's.
    func release(_ volume: Volume) {
        state.withLock { state in
            guard state.inUse.remove(volume) != nil else { return }
            state.released.append(volume)
        }
        wake.signal()
    }

    /// Closes the spares' descriptors and ends the threads (the host stops; its workers are gone).
    public func shutdown() async {
        await withCheckedContinuation { continuation in
            let already = state.withLock { state in
                if state.stopped { return true }
                state.stopped = true
                state.stopping = continuation
                return false
            }
            if already { continuation.resume() }
            for _ in 0..<Self.threadCount { wake.signal() }
        }
    }

    // MARK: The threads

    private enum Work {
        case serve(Int, CheckedContinuation<Volume, any Error>)
        case refuse(CheckedContinuation<Volume, any Error>)
        case destroy(Volume)
        case spare(Int)
    }

    private func work() {
        while true {
            wake.wait()
            while let next = nextWork() {
                switch next {
                case .serve(let megabytes, let continuation):
                    do {
                        let volume = try prepare(megabytes: megabytes)
                        state.withLock { _ = $0.inUse.insert(volume) }
                        continuation.resume(returning: volume)
                    } catch {
                        continuation.resume(throwing: error)
                    }
                case .refuse(let continuation):
                    continuation.resume(throwing: Failure("the host is stopping"))
                case .destroy(let volume):
                    close(volume.descriptor)
                case .spare(let megabytes):
                    do {
                        let volume = try prepare(megabytes: megabytes)
                        state.withLock { state in
                            state.preparing[megabytes, default: 1] -= 1
                            state.ready[megabytes, default: []].append(volume)
                        }
                    } catch {
                        logger.error("cannot prepare a /tmp volume", metadata: ["error": "\(error)"])
                        state.withLock { state in
                            state.preparing[megabytes, default: 1] -= 1
                            _ = state.spareSizes.remove(megabytes)
                        }
                    }
                }
            }
            let exit = state.withLock { state -> (done: Bool, last: CheckedContinuation<Void, Never>?) in
                guard state.stopped else { return (false, nil) }
                state.threadsRunning -= 1
                guard state.threadsRunning == 0 else { return (true, nil) }
                defer { state.stopping = nil }
                return (true, state.stopping)
            }
            exit.last?.resume()
            if exit.done { return }
        }
    }

    /// Waiting workers first, then volumes to destroy, then missing spares; once stopped, the spares
    /// are destroyed too (a volume in use is its worker's to release).
    private func nextWork() -> Work? {
        state.withLock { state in
            if state.stopped {
                state.released += state.ready.values.joined()
                state.ready.removeAll()
            }
            if !state.waiting.isEmpty {
                let (megabytes, continuation) = state.waiting.removeFirst()
                return state.stopped ? .refuse(continuation) : .serve(megabytes, continuation)
            }
            if let volume = state.released.popLast() { return .destroy(volume) }
            guard !state.stopped else { return nil }
            let missing = state.spareSizes.sorted().first { size in
                state.ready[size, default: []].isEmpty && state.preparing[size, default: 0] == 0
            }
            guard let missing else { return nil }
            state.preparing[missing, default: 0] += 1
            return .spare(missing)
        }
    }

    private func prepare(megabytes: Int) throws -> Volume {
        let template = try templateImage(megabytes: megabytes)
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        let image = "\(directory)/\(id).img"
        try check(fnhost_sparse_copy(template, image), "copy \(template)")
        // Removes the image's name however it ends.
        let descriptor = fnhost_loop_volume(image)
        try check(min(descriptor, 0), "mount \(image)")
        return Volume(megabytes: megabytes, descriptor: descriptor)
    }

    /// An empty ext4 filesystem with at least `megabytes` MB free, made once per size and copied
    /// for each volume: no journal (scratch space), nothing reserved for root, and no blocks
    /// reserved for growing it (`resize_inode`; a volume never grows), so each worker's copy
    /// writes 168 kB of metadata instead of 436 kB.
    private func templateImage(megabytes: Int) throws -> String {
        try templates.withLock { (made: inout [Int: String]) throws(Failure) -> String in
            if let path = made[megabytes] { return path }
            let path = try makeTemplate(megabytes: megabytes)
            made[megabytes] = path
            return path
        }
    }

    private func makeTemplate(megabytes: Int) throws(Failure) -> String {
        guard let mkfs = Self.mkfs else { throw Failure("mkfs.ext4 not found") }
        let path = "\(directory)/template-\(megabytes).img"
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Failure("cannot create \(path): \(String(cString: strerror(errno)))") }
        // ext4 keeps about 4 % of a small filesystem for its own tables and delayed allocation.
        let bytes = Int64(megabytes) * 1_048_576 * 104 / 100
        let sized = ftruncate(descriptor, off_t(bytes)) == 0
        close(descriptor)
        guard sized else { throw Failure("cannot size \(path): \(String(cString: strerror(errno)))") }
        let made = ProcessSpawner.run(
            [mkfs, "-q", "-F", "-O", "^has_journal,^resize_inode", "-E", "lazy_itable_init=1,nodiscard", "-m", "0", path],
            environment: ["PATH": "/usr/sbin:/sbin:/usr/bin:/bin"])
        guard made.status == 0 else {
            unlink(path)
            throw Failure("mkfs.ext4 failed: \(made.output)")
        }
        return path
    }

    private func check(_ result: Int32, _ what: String) throws {
        guard result == 0 else { throw Failure("cannot \(what): \(String(cString: strerror(-result)))") }
    }

    /// Unmounts every mount below `directory` (left by a host of an earlier version that was
    /// killed: volumes were mounted there) and removes it with whatever images it holds.
    public static func sweep(_ directory: String) {
        let mountInfo = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        for line in mountInfo.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { continue }
            let point = unescapeMountPath(String(fields[4]))
            if point.hasPrefix(directory + "/") { umount2(point, Int32(MNT_DETACH)) }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// `/proc/self/mountinfo` writes space, tab, newline and backslash as octal escapes.
    private static func unescapeMountPath(_ text: String) -> String {
        guard text.contains("\\") else { return text }
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "\\"), utf8.count >= 3, let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
