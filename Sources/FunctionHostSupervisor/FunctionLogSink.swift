import Foundation
import Glibc
import Synchronization

/// Where one function's log lines go: the console, prefixed with the function's logical id,
/// and `STATE_DIR/logs/FUNCTION.log`. Safe to call from any thread; lines are never interleaved.
public final class FunctionLogSink: Sendable {
    private let prefix: String
    private let console: Int32
    private let file: Int32
    private let lock = Mutex(())

    /// - Parameters:
    ///   - console: descriptor for console output (1 for `serve`, 2 for `invoke`), or -1 for none.
    /// A nested stack's function (`Child/Function`) logs to `logs/Child/Function.log`.
    init(logicalID: String, logDirectory: String, console: Int32) throws {
        let path = (logDirectory as NSString).appendingPathComponent("\(logicalID).log")
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let file = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard file >= 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        self.prefix = "[\(logicalID)] "
        self.console = console
        self.file = file
    }

    deinit { close(file) }

    func write(_ line: String) {
        let record = line + "\n"
        lock.withLock { _ in
            Self.writeAll(file, record)
            if console >= 0 { Self.writeAll(console, prefix + record) }
        }
    }

    private static func writeAll(_ descriptor: Int32, _ text: String) {
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
