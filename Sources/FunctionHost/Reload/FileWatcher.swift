import Foundation
import Glibc
import Synchronization

/// Reports changed files under a set of directories, recursively, through inotify.
///
/// A dedicated thread reads the inotify descriptor (polling it every 100 ms so ``stop()`` ends
/// it promptly) and yields changed paths to ``changes`` in batches: one save is several events
/// (an editor writes, renames, changes modes), so a batch ends after ``quietPeriod`` without
/// events. Directories created later are watched as they appear. A directory that cannot be watched (the per-user inotify limit) is
/// reported once in ``warnings``.
final class FileWatcher: Sendable {
    /// Batches of changed paths, until ``stop()``.
    let changes: AsyncStream<[String]>
    private let continuation: AsyncStream<[String]>.Continuation
    /// How long a batch waits for more events.
    static let quietPeriod: Int32 = 20
    private let descriptor: Int32
    private let directories = Mutex<[Int32: String]>([:])
    private let stopped = Atomic<Bool>(false)
    private let failures = Mutex<[String]>([])
    /// Directories never watched (the state directory).
    private let excluded: Set<String>

    /// What a change is: contents written, a file created, removed, renamed or its mode changed.
    private static let mask = UInt32(
        IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_MODIFY | IN_DELETE_SELF)
    /// Directories never descended into: dependency trees and VCS metadata change with installs, not edits.
    private static let skippedDirectories: Set<String> = ["node_modules", ".git", "__pycache__", ".aws-sam"]

    /// Starts watching `roots`, except below `excluded`; throws when inotify is unavailable.
    init(directories roots: [String], excluding excluded: [String] = []) throws {
        self.excluded = Set(excluded)
        descriptor = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard descriptor >= 0 else {
            throw FunctionHostError(
                "cannot watch files for hot reload: inotify_init1: \(String(cString: strerror(errno)))")
        }
        (changes, continuation) = AsyncStream.makeStream(of: [String].self)
        for root in roots { watchTree(root) }
        let thread = Thread { [self] in readEvents() }
        thread.name = "fnhost-file-watcher"
        thread.stackSize = 256 * 1024
        thread.start()
    }

    /// Directories that could not be watched, with the reason.
    var warnings: [String] { failures.withLock { $0 } }

    func stop() {
        stopped.store(true, ordering: .relaxed)
    }

    private func watchTree(_ root: String) {
        var pending = [root]
        while let directory = pending.popLast() {
            if excluded.contains(directory) { continue }
            let watch = inotify_add_watch(descriptor, directory, Self.mask)
            guard watch >= 0 else {
                let reason = String(cString: strerror(errno))
                failures.withLock { $0.append("cannot watch \(directory) for hot reload: \(reason)") }
                continue
            }
            directories.withLock { $0[watch] = directory }
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for entry in entries where !Self.skippedDirectories.contains(entry) {
                let path = directory + "/" + entry
                var isDirectory: ObjCBool = false
                // Symlinked directories are not followed: a link out of the tree must not widen the watch.
                let attributes = try? FileManager.default.attributesOfItem(atPath: path)
                if attributes?[.type] as? FileAttributeType == .typeDirectory,
                    FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue
                {
                    pending.append(path)
                }
            }
        }
    }

    private func readEvents() {
        defer {
            close(descriptor)
            continuation.finish()
        }
        let size = 64 * 1024
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: MemoryLayout<inotify_event>.alignment)
        defer { buffer.deallocate() }
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        var batch: [String] = []
        while !stopped.load(ordering: .relaxed) {
            guard poll(&poller, 1, batch.isEmpty ? 100 : Self.quietPeriod) > 0 else {
                if !batch.isEmpty { continuation.yield(batch) }
                batch.removeAll()
                continue
            }
            let count = read(descriptor, buffer, size)
            guard count > 0 else { continue }
            var offset = 0
            while offset + MemoryLayout<inotify_event>.size <= count {
                let event = buffer.load(fromByteOffset: offset, as: inotify_event.self)
                let nameStart = offset + MemoryLayout<inotify_event>.size
                let nameLength = Int(event.len)
                offset = nameStart + nameLength
                guard offset <= count else { break }
                let name =
                    nameLength > 0
                    ? String(cString: buffer.advanced(by: nameStart).assumingMemoryBound(to: CChar.self)) : ""
                guard let directory = directories.withLock({ $0[event.wd] }) else { continue }
                let path = name.isEmpty ? directory : directory + "/" + name
                if event.mask & UInt32(IN_ISDIR) != 0, event.mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0,
                    !Self.skippedDirectories.contains(name)
                {
                    watchTree(path)
                }
                if event.mask & UInt32(IN_IGNORED) != 0 {
                    directories.withLock { $0[event.wd] = nil }
                    continue
                }
                batch.append(path)
            }
        }
    }
}
