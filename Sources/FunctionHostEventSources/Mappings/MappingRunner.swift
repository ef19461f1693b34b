import FunctionHostCore

/// One running event-source mapping, of whatever source kind: what ``EventSourceMappingService``
/// starts, reports on, changes and stops. Thread-safe.
protocol MappingRunner: Sendable {
    var mapping: EventSourceMapping { get }
    /// `No records processed`, `OK`, or `PROBLEM: ...`.
    var lastProcessingResult: String { get }
    /// Runs until its task is cancelled or the mapping is removed.
    func run() async
    /// Replaces the settings; picked up on the next cycle.
    func update(_ mapping: EventSourceMapping)
    /// Ends the mapping.
    func remove()
    /// Whether everything due at `now` (host clock) has been handed over: a virtual clock's
    /// advance waits for it.
    func isSettled(at now: Int64) -> Bool
}
