import Dispatch
import Foundation
import FunctionHostLoad
import Glibc
import Synchronization

/// Ctrl-C during `fnhost load`: the first stops sending and waits for what is in flight, the
/// second abandons it; either way the summary of what completed is still printed.
final class InterruptHandler {
    private let source: any DispatchSourceSignal

    init(engine: LoadEngine) {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: DispatchQueue(label: "fnhost.load.interrupt"))
        let presses = Presses()
        source.setEventHandler { [source] in  // a cycle until cancel() removes the handler
            // Signals that arrive before the handler runs are coalesced: `data` says how many.
            let (before, after) = presses.add(Int(source.data))
            if before == 0 {
                FileHandle.standardError.write(Data("\nfnhost load: stopping; waiting for requests in flight (Ctrl-C again abandons them)\n".utf8))
                engine.interrupt()
            }
            if after >= 2 && before < 2 {
                FileHandle.standardError.write(Data("\nfnhost load: abandoning requests in flight\n".utf8))
                engine.abandon()
            }
        }
        source.resume()
        self.source = source
    }

    /// Stops listening; Ctrl-C is the default again.
    func cancel() {
        source.setEventHandler(handler: nil)
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }

    /// How many times Ctrl-C was pressed.
    private final class Presses: Sendable {
        private let count = Atomic<Int>(0)

        func add(_ presses: Int) -> (before: Int, after: Int) {
            let after = count.wrappingAdd(max(1, presses), ordering: .relaxed).newValue
            return (after - max(1, presses), after)
        }
    }
}
