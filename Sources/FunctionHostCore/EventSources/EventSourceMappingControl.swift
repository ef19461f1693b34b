/// Lists and changes the host's event-source mappings at run time: the seam between the mapping
/// API (Invoke API port) and the running mappings. Validation happens before these calls; they
/// only execute. Thread-safe.
public protocol EventSourceMappingControl: Sendable {
    /// Every mapping, in creation order.
    func list() -> [EventSourceMappingStatus]
    func get(uuid: String) -> EventSourceMappingStatus?
    /// Starts `mapping`; `nil` when its function is not served.
    func create(_ mapping: EventSourceMapping) -> EventSourceMappingStatus?
    /// Replaces a mapping's settings; `nil` when there is no such mapping.
    func update(uuid: String, to mapping: EventSourceMapping) -> EventSourceMappingStatus?
    /// Stops and forgets a mapping; `nil` when there is no such mapping.
    func delete(uuid: String) -> EventSourceMappingStatus?
}

/// A mapping with what the API reports about it.
public struct EventSourceMappingStatus: Sendable, Hashable {
    public var mapping: EventSourceMapping
    /// `Enabled`, `Disabled`, `Deleting`, ...
    public var state: String
    /// `No records processed`, `OK`, or `PROBLEM: ...`.
    public var lastProcessingResult: String
    public var stateTransitionReason: String

    public init(mapping: EventSourceMapping, state: String, lastProcessingResult: String, stateTransitionReason: String) {
        self.mapping = mapping
        self.state = state
        self.lastProcessingResult = lastProcessingResult
        self.stateTransitionReason = stateTransitionReason
    }
}
