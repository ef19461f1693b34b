import FunctionHostCore
import Synchronization

/// A worker's log stream: every line goes to the function's sink, and while an invocation
/// asked for `Tail`, into that invocation's capture too. Also remembers how the process ended.
final class WorkerOutput: Sendable {
    let sink: FunctionLogSink
    private struct State {
        /// The tail of the invocation's log while it asked for `Tail`: at most twice ``tailSize`` bytes.
        var capture: [UInt8]?
        var exitReason: ExitReason?
        var launchFailure: String?
    }
    private let state = Mutex(State())

    /// Bytes of log returned to a caller that asked for `Tail`.
    static let tailSize = 4096

    init(sink: FunctionLogSink) {
        self.sink = sink
    }

    /// Writes `lines` to the log in one write per destination (an invocation's END and REPORT
    /// go together), and to the capture if there is one.
    func emit(_ lines: String...) {
        sink.write(lines)
        state.withLock { state in
            for line in lines {
                state.capture?.append(contentsOf: line.utf8)
                state.capture?.append(UInt8(ascii: "\n"))
                if line.hasPrefix("fnhost-launch: ") { state.launchFailure = String(line.dropFirst("fnhost-launch: ".count)) }
            }
            // Trimmed in steps, so a chatty invocation costs neither memory nor a shift per line.
            if let count = state.capture?.count, count > 2 * Self.tailSize {
                state.capture?.removeFirst(count - Self.tailSize)
            }
        }
    }

    func beginCapture() {
        state.withLock { $0.capture = [] }
    }

    /// Ends the capture and returns its last 4 KB.
    func endCapture() -> String? {
        guard let bytes = state.withLock({ state in
            defer { state.capture = nil }
            return state.capture
        }) else { return nil }
        return String(decoding: bytes.suffix(Self.tailSize), as: UTF8.self)
    }

    func recordExit(_ reason: ExitReason) {
        state.withLock { $0.exitReason = reason }
    }

    var exitReason: ExitReason? { state.withLock { $0.exitReason } }

    /// The launcher's own failure message, when the process never got to run the bootstrap.
    var launchFailure: String? {
        state.withLock { $0.exitReason == .exited(status: WorkerProcess.launchFailureStatus) ? $0.launchFailure : nil }
    }
}
