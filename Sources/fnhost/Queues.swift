import ArgumentParser
import Foundation
import FunctionHostEventSources
import FunctionHostQueues

/// `fnhost queues`: the embedded SQS queues of a state directory with their message counts, and
/// the accepted `Event` invocations still waiting, per function.
///
/// Reads `STATE_DIR/fnhost.sqlite` directly (read-only), so it answers whether or not a host
/// is running on that state directory; queues appear once a host has started on it.
struct Queues: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the embedded SQS queues of a state directory with their depths, and waiting Event invocations.")

    @Option(help: "Directory for logs and state (as given to `fnhost serve`).")
    var stateDir: String = ".fnhost"

    func run() throws {
        let reports: [QueueDepthReport]?
        let events: [AsyncInventory.Waiting]?
        do {
            reports = try QueueInventory.depths(stateDirectory: stateDir)
            events = try AsyncInventory.waiting(stateDirectory: stateDir)
        } catch {
            Self.exitWithStartupFailure("cannot read the queue state in \(stateDir): \(error)")
        }
        func pad(_ text: String, _ count: Int) -> String {
            text + String(repeating: " ", count: max(0, count - text.count))
        }
        if let reports, !reports.isEmpty {
            let width = max(5, reports.map(\.name.count).max() ?? 0)
            print("\(pad("QUEUE", width))  VISIBLE  IN_FLIGHT  DELAYED")
            for report in reports {
                print(
                    "\(pad(report.name, width))  \(pad(String(report.visible), 7))  \(pad(String(report.inFlight), 9))  \(report.delayed)"
                )
            }
        } else {
            print("no queues in \(stateDir) (queues are created when `fnhost serve` starts on this state directory)")
        }
        guard let events, !events.isEmpty else { return }
        let width = max(8, events.map(\.functionName.count).max() ?? 0)
        print("\n\(pad("FUNCTION", width))  EVENTS  OLDEST_ACCEPTED")
        for entry in events {
            let oldest = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: entry.oldestEnqueuedAt))
            print("\(pad(entry.functionName, width))  \(pad(String(entry.count), 6))  \(oldest)")
        }
    }
}
