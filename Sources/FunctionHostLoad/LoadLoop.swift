import NIOCore

/// The generator's work on one event loop: its connections, its closed-loop clients or its share
/// of the open-loop arrivals (arrival i belongs to loop `i % loops`), the queue of arrivals that
/// found every connection busy, and the timeout sweep. Confined to its event loop.
final class LoadLoop: @unchecked Sendable {
    unowned let engine: LoadEngine
    let eventLoop: any EventLoop
    let index: Int
    private var connections: [ObjectIdentifier: (connection: LoadConnection, channel: any Channel)] = [:]
    private var idle: [LoadConnection] = []
    private var owned = 0
    /// Open loop: arrivals waiting for a free connection, oldest first, with their intended start.
    private var waiting: [(ticket: Int, intended: UInt64)] = []
    private var waitingHead = 0
    private var pump: (schedule: ArrivalSchedule, next: Int, loops: Int, maxConnections: Int, start: UInt64)?
    private var closedLoop = false
    private var sweep: RepeatedTask?

    init(engine: LoadEngine, eventLoop: any EventLoop, index: Int) {
        self.engine = engine
        self.eventLoop = eventLoop
        self.index = index
    }

    func register(_ connection: LoadConnection, channel: any Channel) {
        connections[ObjectIdentifier(connection)] = (connection, channel)
    }

    func unregister(_ connection: LoadConnection) {
        connections[ObjectIdentifier(connection)] = nil
    }

    /// Closed loop: `clients` clients, client k starting at `starts[k]` nanoseconds after `start`.
    func startClients(_ starts: [UInt64], start: UInt64) {
        closedLoop = true
        pump = nil
        startSweep()
        var reusable = idle
        idle.removeAll()
        for offset in starts {
            let connection = reusable.popLast() ?? { owned += 1; return LoadConnection(loop: self) }()
            let at = start + offset
            let now = NIODeadline.now().uptimeNanoseconds
            if at <= now {
                next(for: connection)
            } else {
                eventLoop.scheduleTask(deadline: .uptimeNanoseconds(at)) { [self] in next(for: connection) }
            }
        }
        idle.append(contentsOf: reusable)
    }

    /// Open loop: this loop's share of `schedule`, starting at `start` (uptime ns), on at most `maxConnections` connections.
    func startArrivals(_ schedule: ArrivalSchedule, loops: Int, maxConnections: Int, start: UInt64) {
        closedLoop = false
        waiting.removeAll()
        waitingHead = 0
        pump = (schedule, index, loops, maxConnections, start)
        startSweep()
        pumpArrivals()
    }

    /// Closed loop: the connection's next request, if the phase has one.
    private func next(for connection: LoadConnection) {
        let now = NIODeadline.now().uptimeNanoseconds
        switch engine.claim(now: now) {
        case .send(let ticket): connection.send(ticket: ticket, intended: now)
        case .stop: idle.append(connection)
        }
    }

    /// Open loop: sends every arrival that is due, then sleeps until the next one.
    private func pumpArrivals() {
        guard var state = pump else { return }
        let now = NIODeadline.now().uptimeNanoseconds
        while true {
            let offset = state.schedule.offset(ofArrival: state.next)
            let intended = state.start + UInt64(offset * 1e9)
            if intended > now {
                pump = state
                eventLoop.scheduleTask(deadline: .uptimeNanoseconds(intended)) { [self] in pumpArrivals() }
                return
            }
            switch engine.claim(arrival: state.next, offset: offset) {
            case .send(let ticket):
                engine.noteSendLag(now - intended)
                dispatch(ticket: ticket, intended: intended, maxConnections: state.maxConnections)
                state.next += state.loops
            case .stop:
                pump = nil
                return
            }
        }
    }

    private func dispatch(ticket: Int, intended: UInt64, maxConnections: Int) {
        if let connection = idle.popLast() {
            connection.send(ticket: ticket, intended: intended)
        } else if owned < maxConnections {
            owned += 1
            LoadConnection(loop: self).send(ticket: ticket, intended: intended)
        } else {
            engine.noteConnectionLimit()
            waiting.append((ticket, intended))
        }
    }

    /// A request ended on `connection`: report it, then give the connection its next request.
    func finished(
        _ connection: LoadConnection, outcome: RequestOutcome, intended: UInt64, now: UInt64, initDuration: Double?,
        connectionLost: Bool
    ) {
        engine.finish(outcome, intended: intended, now: now, initDuration: initDuration)
        if connectionLost, case .transportError = outcome, closedLoop {
            // A refused or reset connection: do not spin through the request budget; retry shortly.
            eventLoop.scheduleTask(in: .milliseconds(20)) { [self] in next(for: connection) }
            return
        }
        if closedLoop {
            next(for: connection)
        } else if waitingHead < waiting.count {
            let queued = waiting[waitingHead]
            waitingHead += 1
            if waitingHead > 1024 && waitingHead * 2 > waiting.count {
                waiting.removeFirst(waitingHead)
                waitingHead = 0
            }
            connection.send(ticket: queued.ticket, intended: queued.intended)
        } else {
            idle.append(connection)
        }
    }

    private func startSweep() {
        guard sweep == nil else { return }
        let timeout = UInt64(engine.target.timeout * 1e9)
        sweep = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(250), delay: .milliseconds(250)) { [self] _ in
            let now = NIODeadline.now().uptimeNanoseconds
            for (connection, _) in connections.values {
                if let request = connection.inFlight, now > request.sent + timeout {
                    connection.abandon(reason: "no answer within \(engine.target.timeout) s")
                }
            }
        }
    }

    /// Second Ctrl-C: gives up every request in flight and every queued arrival.
    func abandonAll() {
        let now = NIODeadline.now().uptimeNanoseconds
        while waitingHead < waiting.count {
            let queued = waiting[waitingHead]
            waitingHead += 1
            engine.finish(.transportError("abandoned on interrupt"), intended: queued.intended, now: now, initDuration: nil)
        }
        for (connection, _) in connections.values { connection.abandon(reason: "abandoned on interrupt") }
    }

    /// Closes every connection (end of the run).
    func close() {
        sweep?.cancel()
        sweep = nil
        for (_, channel) in connections.values { channel.close(promise: nil) }
    }
}
