import Foundation
import FunctionHostCore
import Logging
import Metrics
import NIOCore
import ServiceLifecycle
import Synchronization

/// Fires the template's schedules on the host clock: each enabled schedule sleeps until its next
/// fire time (``ScheduleExpression``) and enqueues an asynchronous invocation (so retries,
/// destinations and the DLQ apply) carrying the Scheduled Event for that time, or its `Input`.
///
/// Fire times are computed from when the host starts: a host that was down across fire times
/// does not replay them. When a virtual clock is advanced past several fire times, each fires
/// once, in order, with its own scheduled `time`.
public final class ScheduleService: Service, Sendable {
    private let schedules: [ScheduleDefinition]
    private let catalog: FunctionCatalog
    private let sink: any AsyncInvocationSink
    private let clock: any HostClock
    private let account: AccountContext
    private let logger: Logger
    private let fired: [String: Counter]
    /// Per schedule (index), the next fire not yet handed to the async queue; `nil` when none is left.
    private let pending: Mutex<[Int: Int64]>

    public init(
        schedules: [ScheduleDefinition], catalog: FunctionCatalog, sink: any AsyncInvocationSink, clock: any HostClock,
        account: AccountContext, metricsFactory: (any MetricsFactory)? = nil, logger: Logger
    ) {
        self.schedules = schedules.filter(\.enabled)
        self.catalog = catalog
        self.sink = sink
        self.clock = clock
        self.account = account
        self.logger = logger
        pending = Mutex([:])
        let factory = metricsFactory ?? MetricsSystem.factory
        fired = Dictionary(
            schedules.map { schedule in
                (
                    schedule.logicalID + "/" + schedule.name,
                    Counter(
                        label: "fnhost_schedule_fires_total",
                        dimensions: [("function_name", schedule.functionName), ("schedule", schedule.name)], factory: factory)
                )
            }, uniquingKeysWith: { first, _ in first })
    }

    public func run() async throws {
        let start = Date(timeIntervalSince1970: clock.seconds())
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for (index, schedule) in self.schedules.enumerated() {
                    group.addTask { await self.run(schedule, index: index, from: start) }
                }
            }
        }
        // No schedules, or only one-time ones that have fired: stay until the host stops.
        try? await gracefulShutdown()
    }

    private func run(_ schedule: ScheduleDefinition, index: Int, from start: Date) async {
        guard let function = catalog.entry(named: schedule.functionName)?.configuration else { return }
        var cursor = start
        defer { _ = pending.withLock { $0.removeValue(forKey: index) } }
        while !Task.isCancelled,
            let next = schedule.expression.next(after: cursor, from: start, in: schedule.timeZone)
        {
            let deadline = Int64((next.timeIntervalSince1970 * 1000).rounded())
            pending.withLock { $0[index] = deadline }
            do {
                try await clock.sleep(until: deadline)
            } catch {
                return
            }
            cursor = next
            let id = UUID().uuidString.lowercased()
            let request = InvocationRequest(
                requestID: InvocationIdentifiers.requestID(),
                payload: ByteBuffer(string: schedule.payload(firedAt: next, id: id, account: account)),
                invokedFunctionARN: account.functionARN(function.functionName),
                traceID: InvocationIdentifiers.traceHeader())
            let metadata: Logger.Metadata = [
                "schedule.name": "\(schedule.name)", "function.name": "\(function.functionName)",
                "schedule.time": "\(next.formatted(Date.ISO8601FormatStyle()))",
            ]
            do {
                try await sink.enqueue(function, request)
                fired[schedule.logicalID + "/" + schedule.name]?.increment()
                logger.debug("schedule fired", metadata: metadata)
            } catch {
                // The host is stopping (or the state database failed): this fire is lost, as a
                // fire during downtime would be.
                logger.info("schedule fire not accepted", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            }
        }
    }
}

extension ScheduleService: ClockSettling {
    /// Settled when every fire due at `now` has been handed to the async queue.
    public func isSettled(at now: Int64) async -> Bool {
        pending.withLock { $0.values.allSatisfy { $0 > now } }
    }
}
