import CoreMetrics
import Synchronization

/// Queue depth gauges, one per queue and state (`visible`, `in_flight`, `delayed`): bounded by the
/// number of queues. Refreshed from SQLite when `/metrics` is rendered, not on every message.
final class QueueMetrics: Sendable {
    static let depth = "fnhost_queue_messages"
    static let waiting = "fnhost_queue_receivers_waiting"

    private let factory: any MetricsFactory
    private let gauges = Mutex<[String: (visible: Gauge, inFlight: Gauge, delayed: Gauge)]>([:])

    /// Long polls parked across all queues.
    let waiting: Gauge

    init(factory: any MetricsFactory) {
        self.factory = factory
        waiting = Gauge(label: Self.waiting, factory: factory)
    }

    func record(_ reports: [QueueDepthReport]) {
        for report in reports {
            let set = gauges.withLock { gauges in
                if let existing = gauges[report.name] { return existing }
                func gauge(_ state: String) -> Gauge {
                    Gauge(label: Self.depth, dimensions: [("queue", report.name), ("state", state)], factory: factory)
                }
                let made = (visible: gauge("visible"), inFlight: gauge("in_flight"), delayed: gauge("delayed"))
                gauges[report.name] = made
                return made
            }
            set.visible.record(report.visible)
            set.inFlight.record(report.inFlight)
            set.delayed.record(report.delayed)
        }
    }
}

extension QueueEngine {
    /// Sets the depth gauges from the database (call before rendering `/metrics`); errors leave them as they were.
    public func refreshMetrics() async {
        guard let metrics, let reports = try? await depths() else { return }
        metrics.record(reports)
        metrics.waiting.record(signals.waiting)
    }
}
