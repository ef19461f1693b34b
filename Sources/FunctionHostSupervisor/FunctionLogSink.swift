import Foundation
import Glibc
import Synchronization

/// Where one function's log lines go: the console, prefixed with the function's logical id,
/// and `STATE_DIR/logs/FUNCTION.log`, rotated at a size (`FUNCTION.log.1` is the previous file,
/// and so on) so a chatty function cannot fill the disk. Safe to call from any thread; lines are
/// never interleaved.
public final class FunctionLogSink: Sendable {
    private struct File {
        var descriptor: Int32
        var size: Int
    }

    private let prefix: String
    private let console: Int32
    private let path: String
    private let rotation: (size: Int, files: Int)
    private let file: Mutex<File>

    /// - Parameters:
    ///   - console: descriptor for console output (1 for `serve`, 2 for `invoke`), or -1 for none.
    ///   - rotation: the size in bytes past which the file is rotated, and how many files to keep in all.
    /// A nested stack's function (`Child/Function`) logs to `logs/Child/Function.log`.
    init(logicalID: String, logDirectory: String, console: Int32, rotation: (size: Int, files: Int)) throws {
        path = (logDirectory as NSString).appendingPathComponent("\(logicalID).log")
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        prefix = "[\(logicalID)] "
        self.console = console
        self.rotation = (max(1, rotation.size), max(1, rotation.files))
        file = Mutex(try Self.open(path))
    }

    deinit { file.withLock { close($0.descriptor) } }

    /// Appends `lines` with one write to the file and one to the console.
    func write(_ lines: [String]) {
        var record = ""
        var console = ""
        for line in lines {
            record += line + "\n"
            if self.console >= 0 { console += prefix + line + "\n" }
        }
        file.withLock { file in
            if file.size > 0, file.size + record.utf8.count > rotation.size { rotate(&file) }
            Self.writeAll(file.descriptor, record)
            file.size += record.utf8.count
            Self.writeAll(self.console, console)
        }
    }

    /// `FUNCTION.log.N-1` → `.N` … `FUNCTION.log` → `.1`, dropping the oldest; then a fresh file.
    private func rotate(_ file: inout File) {
        close(file.descriptor)
        if rotation.files > 1 {
            for index in stride(from: rotation.files - 1, to: 0, by: -1) {
                Glibc.rename(index == 1 ? path : "\(path).\(index - 1)", "\(path).\(index)")
            }
        } else {
            unlink(path)
        }
        // Should the new file fail to open, lines go nowhere rather than to a closed descriptor's successor.
        file = (try? Self.open(path)) ?? File(descriptor: -1, size: 0)
    }

    private static func open(_ path: String) throws -> File {
        let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        var status = stat()
        return File(descriptor: descriptor, size: fstat(descriptor, &status) == 0 ? Int(status.st_size) : 0)
    }

    private static func writeAll(_ descriptor: Int32, _ text: String) {
        guard descriptor >= 0 else { return }
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }
}
