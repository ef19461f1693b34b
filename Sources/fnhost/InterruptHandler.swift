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
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: DispatchQueue(label: "fnhost.load.interrupt"))
        source.setEventHandler { [presses = Presses()] in
            if presses.next() == 1 {
                FileHandle.standardError.write(Data("\nfnhost load: stopping; waiting for requests in flight (Ctrl-C again abandons them)\n".utf8))
                engine.interrupt()
            } else {
                FileHandle.standardError.write(Data("\nfnhost load: abandoning requests in flight\n".utf8))
                engine.abandon()
            }
        }
        source.resume()
    }

    /// Stops listening; Ctrl-C is the default again.
    func cancel() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }

    /// How many times Ctrl-C was pressed.
    private final class Presses: Sendable {
        private let count = Atomic<Int>(0)
        func next() -> Int { count.wrappingAdd(1, ordering: .relaxed).newValue }
    }
}
