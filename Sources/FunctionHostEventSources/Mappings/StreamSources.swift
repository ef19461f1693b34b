import FunctionHostCore

/// What event-source mappings read besides the embedded queue: the embedded stream, external
/// queues and streams, the checkpoint store, the shard leases of external streams, and where
/// OnFailure records go.
public struct StreamSources: Sendable {
    /// The embedded Kinesis.
    public var reader: any StreamReader
    public var checkpoints: StreamCheckpoints
    /// Sends OnFailure records to their SQS destination.
    public var failureSender: (any QueueSender)?
    /// Queues and streams the template does not define (``EventSourceMapping/external``).
    public var externalQueues: (any QueueConsumer)?
    public var externalKinesis: (any StreamReader)?
    public var dynamoDBStreams: (any StreamReader)?
    /// Shard leases shared with other hosts, for external streams; `nil`: each host reads them whole.
    public var leasing: ShardLeasing?

    public init(
        reader: any StreamReader, checkpoints: StreamCheckpoints, failureSender: (any QueueSender)?,
        externalQueues: (any QueueConsumer)? = nil, externalKinesis: (any StreamReader)? = nil,
        dynamoDBStreams: (any StreamReader)? = nil, leasing: ShardLeasing? = nil
    ) {
        self.reader = reader
        self.checkpoints = checkpoints
        self.failureSender = failureSender
        self.externalQueues = externalQueues
        self.externalKinesis = externalKinesis
        self.dynamoDBStreams = dynamoDBStreams
        self.leasing = leasing
    }
}
