/// The engine's shared bookkeeping, kept behind one lock: which request may start next, how many
/// are in flight, when the phase is over, and the ``LoadRecorder`` of the measured phase. A value
/// type that decides; the engine only executes its answers.
struct LoadLedger {
    /// What a source (a closed-loop client or an arrival pump) may do next.
    enum Claim: Equatable {
        case send(ticket: Int)
        /// The source is exhausted; `phaseDone` when it was the last thing running.
        case stop(phaseDone: Bool)
    }

    var recorder = LoadRecorder()
    var recording = false
    private(set) var issued = 0
    private(set) var finished = 0
    private var limit: Int?
    private var end: Double?
    private(set) var interrupted = false
    private var activeSources = 0
    private var done = false

    var inFlight: Int { issued - finished }

    /// Starts a phase of `sources` sources that stops after `limit` requests or at `end` seconds.
    mutating func startPhase(sources: Int, limit: Int?, end: Double?, recording: Bool) {
        issued = 0
        finished = 0
        self.limit = limit
        self.end = end
        self.recording = recording
        activeSources = sources
        done = false
    }

    /// A closed-loop client asks for its next request at `now` seconds into the phase.
    mutating func claim(now: Double) -> Claim {
        if interrupted || (limit.map { issued >= $0 } ?? false) || (end.map { now >= $0 } ?? false) {
            return exhaust()
        }
        issued += 1
        return .send(ticket: issued - 1)
    }

    /// An arrival pump asks whether arrival `index`, due at `offset` seconds, is still part of the phase.
    mutating func claim(arrival index: Int, offset: Double) -> Claim {
        if interrupted || (limit.map { index >= $0 } ?? false) || (end.map { offset >= $0 } ?? false) {
            return exhaust()
        }
        issued += 1
        return .send(ticket: index)
    }

    private mutating func exhaust() -> Claim {
        activeSources -= 1
        return .stop(phaseDone: checkDone())
    }

    /// A request ended; true when that ended the phase.
    mutating func finish(_ outcome: RequestOutcome, latency: Double, at time: Double, initDuration: Double?) -> Bool {
        finished += 1
        if recording { recorder.record(outcome, latency: latency, at: time, initDuration: initDuration) }
        return checkDone()
    }

    /// First Ctrl-C: no source starts anything more. True when nothing was in flight (the phase is over).
    mutating func interrupt() -> Bool {
        interrupted = true
        return checkDone()
    }

    private mutating func checkDone() -> Bool {
        guard !done, activeSources <= 0 || interrupted, finished == issued else { return false }
        done = true
        return true
    }
}
