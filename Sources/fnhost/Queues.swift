import ArgumentParser
import FunctionHostQueues

/// `fnhost queues`: the embedded SQS queues of a state directory with their message counts.
///
/// Reads `STATE_DIR/fnhost.sqlite` directly (read-only), so it answers whether or not a host
/// is running on that state directory; queues appear once a host has started on it.
struct Queues: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the embedded SQS queues of a state directory with their depths.")

    @Option(help: "Directory for logs and state (as given to `fnhost serve`).")
    var stateDir: String = ".fnhost"

    func run() throws {
        let reports: [QueueDepthReport]?
        do {
            reports = try QueueInventory.depths(stateDirectory: stateDir)
        } catch {
            Self.exitWithStartupFailure("cannot read the queue state in \(stateDir): \(error)")
        }
        guard let reports, !reports.isEmpty else {
            print("no queues in \(stateDir) (queues are created when `fnhost serve` starts on this state directory)")
            return
        }
        let width = max(5, reports.map(\.name.count).max() ?? 0)
        func pad(_ text: String, _ count: Int) -> String {
            text + String(repeating: " ", count: max(0, count - text.count))
        }
        print("\(pad("QUEUE", width))  VISIBLE  IN_FLIGHT  DELAYED")
        for report in reports {
            print(
                "\(pad(report.name, width))  \(pad(String(report.visible), 7))  \(pad(String(report.inFlight), 9))  \(report.delayed)"
            )
        }
    }
}
