import FunctionHostCore

/// What stream mappings need beside the function: the stream reader, the checkpoint store, and
/// where OnFailure records go.
public struct StreamSources: Sendable {
    public var reader: any StreamReader
    public var checkpoints: StreamCheckpoints
    /// Sends OnFailure records to their SQS destination.
    public var failureSender: (any QueueSender)?

    public init(reader: any StreamReader, checkpoints: StreamCheckpoints, failureSender: (any QueueSender)?) {
        self.reader = reader
        self.checkpoints = checkpoints
        self.failureSender = failureSender
    }
}
