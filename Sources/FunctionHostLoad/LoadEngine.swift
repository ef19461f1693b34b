import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The load generator: keep-alive HTTP/1.1 connections on SwiftNIO event loops, requests built
/// once (``RequestCatalog``), one lock per answer (``LoadLedger``). ``run(mode:stop:ramp:maxConnections:recording:)``
/// runs one phase (warm-up, then the measured run) and returns when every request it started has
/// ended. ``interrupt()`` stops starting requests; ``abandon()`` gives up those in flight.
public final class LoadEngine: Sendable {
    /// A send more than this late (ms) against its schedule is late.
    public static let lateSendMilliseconds = 10.0
    /// The generator fell behind when more than this share of sends was late, or one was this late (ms).
    public static let lateShareLimit = 0.01
    public static let worstLagLimitMilliseconds = 50.0

    public let target: LoadTarget
    let requests: RequestCatalog
    let pipeline: ClientPipeline
    private let group: MultiThreadedEventLoopGroup
    /// Set once in `init` (each loop holds an unowned reference back, so they are made after `self`), read-only after.
    nonisolated(unsafe) private var loops: [LoadLoop] = []
    private let ledger = Mutex(LoadLedger())
    private let generator = Mutex(GeneratorHealth())
    private let phaseStart = Atomic<UInt64>(0)
    private let waiter = Mutex<CheckedContinuation<Void, Never>?>(nil)

    /// How well the generator kept to its schedule.
    struct GeneratorHealth {
        var sends = 0
        var lateSends = 0
        var maxLagNanoseconds: UInt64 = 0
        var connectionLimitHits = 0
    }

    /// Throws ``LoadError`` when TLS cannot be set up for an `https` endpoint.
    public init(target: LoadTarget, threads: Int) throws {
        self.target = target
        requests = RequestCatalog(target: target)
        pipeline = try ClientPipeline(target: target)
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        var loops: [LoadLoop] = []
        for (index, loop) in group.makeIterator().enumerated() {
            loops.append(LoadLoop(engine: self, eventLoop: loop, index: index))
        }
        self.loops = loops
    }

    /// Sends one `DryRun` invocation: throws ``LoadError`` `.functionNotFound` (the endpoint's
    /// ResourceNotFoundException, named) or `.unreachable` before any load is sent.
    public func preflight() async throws {
        let answer: Preflight.Answer
        do {
            answer = try await Preflight.send(requests.dryRun(), through: pipeline, on: group.next())
        } catch {
            throw LoadError(.unreachable, "cannot reach \(target.endpoint)", cause: error)
        }
        switch answer.status {
        case 200..<300: return
        case 404:
            throw LoadError(.functionNotFound, "\(answer.errorType ?? "ResourceNotFoundException"): \(answer.body)")
        case 429: return  // throttled even for a dry run: the load run will count them
        default:
            throw LoadError(.usage, "\(target.endpoint) refused the function: HTTP \(answer.status) \(answer.errorType ?? ""): \(answer.body)")
        }
    }

    /// Runs one phase; returns its duration in seconds (first start to last end).
    @discardableResult
    public func run(mode: LoadMode, stop: LoadStop, ramp: Double = 0, maxConnections: Int = 1024, recording: Bool) async -> Double {
        let limit: Int?
        let end: Double?
        switch stop {
        case .requests(let count): (limit, end) = (count, nil)
        case .duration(let seconds): (limit, end) = (nil, seconds)
        }
        let sources: Int
        switch mode {
        case .concurrency(let clients): sources = clients
        case .rate: sources = loops.count
        }
        ledger.withLock { $0.startPhase(sources: sources, limit: limit, end: end, recording: recording) }
        generator.withLock { $0 = GeneratorHealth() }
        let start = NIODeadline.now().uptimeNanoseconds
        phaseStart.store(start, ordering: .releasing)
        await withCheckedContinuation { continuation in
            waiter.withLock { $0 = continuation }
            switch mode {
            case .concurrency(let clients):
                for (index, loop) in loops.enumerated() {
                    let starts = stride(from: index, to: clients, by: loops.count).map {
                        UInt64(ArrivalSchedule.clientStart($0, of: clients, ramp: ramp) * 1e9)
                    }
                    loop.eventLoop.execute { loop.startClients(starts, start: start) }
                }
            case .rate(let rate):
                let schedule = ArrivalSchedule(rate: rate, ramp: ramp)
                let perLoop = max(1, maxConnections / loops.count)
                for loop in loops {
                    loop.eventLoop.execute { loop.startArrivals(schedule, loops: self.loops.count, maxConnections: perLoop, start: start) }
                }
            }
        }
        return Double(NIODeadline.now().uptimeNanoseconds - start) / 1e9
    }

    func claim(now: UInt64) -> LoadLedger.Claim {
        let seconds = Double(now &- phaseStart.load(ordering: .acquiring)) / 1e9
        let claim = ledger.withLock { $0.claim(now: seconds) }
        if case .stop(true) = claim { resumeWaiter() }
        return claim
    }

    func claim(arrival index: Int, offset: Double) -> LoadLedger.Claim {
        let claim = ledger.withLock { $0.claim(arrival: index, offset: offset) }
        if case .stop(true) = claim { resumeWaiter() }
        return claim
    }

    func finish(_ outcome: RequestOutcome, intended: UInt64, now: UInt64, initDuration: Double?) {
        let start = phaseStart.load(ordering: .acquiring)
        let latency = Double(now &- intended) / 1e9
        let at = Double(now &- start) / 1e9
        if ledger.withLock({ $0.finish(outcome, latency: latency, at: at, initDuration: initDuration) }) { resumeWaiter() }
    }

    func noteSendLag(_ nanoseconds: UInt64) {
        let late = Double(nanoseconds) / 1e6 > Self.lateSendMilliseconds
        generator.withLock {
            $0.sends += 1
            guard late else { return }
            $0.lateSends += 1
            $0.maxLagNanoseconds = max($0.maxLagNanoseconds, nanoseconds)
        }
    }

    func noteConnectionLimit() {
        generator.withLock { $0.connectionLimitHits += 1 }
    }

    private func resumeWaiter() {
        waiter.withLock { continuation in
            continuation?.resume()
            continuation = nil
        }
    }

    /// First Ctrl-C: start nothing more; the phase ends when what is in flight has answered.
    public func interrupt() {
        if ledger.withLock({ $0.interrupt() }) { resumeWaiter() }
    }

    /// Second Ctrl-C: give up what is in flight (each counts as a transport error).
    public func abandon() {
        interrupt()
        for loop in loops { loop.eventLoop.execute { loop.abandonAll() } }
    }

    public var interrupted: Bool { ledger.withLock { $0.interrupted } }

    public func progress() -> LoadProgress {
        let now = NIODeadline.now().uptimeNanoseconds
        let elapsed = Double(now &- phaseStart.load(ordering: .acquiring)) / 1e9
        let second = Int(elapsed)
        return ledger.withLock { ledger in
            ledger.recorder.sampleInFlight(ledger.inFlight, second: second)
            return LoadProgress(
                elapsed: elapsed, finished: ledger.finished, inFlight: ledger.inFlight,
                completed: ledger.recorder.completed, errors: ledger.recorder.errors, throttles: ledger.recorder.throttles,
                transportErrors: ledger.recorder.transportErrors,
                lastSecondCount: ledger.recorder.answered(inSecond: second - 1),
                lastSecond: ledger.recorder.percentiles(ofSecond: second - 1))
        }
    }

    /// What the measured phase recorded.
    public var recorder: LoadRecorder { ledger.withLock { $0.recorder } }

    /// Sentences for the summary's `warnings` when the generator itself could not keep up.
    public func generatorWarnings(mode: LoadMode, maxConnections: Int) -> [String] {
        let health = generator.withLock { $0 }
        var warnings: [String] = []
        let worstLag = Double(health.maxLagNanoseconds) / 1e6
        if Double(health.lateSends) > Double(health.sends) * Self.lateShareLimit || worstLag > Self.worstLagLimitMilliseconds {
            warnings.append(
                "fnhost load could not keep up: \(health.lateSends) of \(health.sends) sends started more than \(Int(Self.lateSendMilliseconds)) ms late (at worst \(String(format: "%.1f", worstLag)) ms); latencies still count from the intended start")
        }
        if health.connectionLimitHits > 0, case .rate = mode {
            warnings.append(
                "\(health.connectionLimitHits) arrivals waited for one of the \(maxConnections) connections (--connections); that wait is in their latency")
        }
        return warnings
    }

    /// Closes every connection and stops the event loops.
    public func shutdown() async {
        for loop in loops { loop.eventLoop.execute { loop.close() } }
        try? await group.shutdownGracefully()
    }
}
