/// Everything fnhost knows about one function, resolved from the template.
///
/// Values are validated by ``TemplateLoader``: `memorySize` is 128–10240 MB, `timeout`
/// 1–900 s, and `codeDirectory` is an absolute path to an existing directory.
public struct FunctionConfiguration: Sendable, Hashable {
    /// The template's logical id; names the log file.
    public var logicalID: String
    /// The name clients invoke: the `FunctionName` property, else the logical id.
    public var functionName: String
    public var runtime: FunctionRuntime
    public var handler: String
    public var codeDirectory: String
    public var memorySize: Int
    /// Seconds.
    public var timeout: Int
    public var environment: [String: String]
    public var description: String
    /// Template properties fnhost accepts but later features implement (Layers, Events, ...).
    public var deferredProperties: [String]
    /// `Layers`, resolved to local sources (directories or .zip files), lowest first; at most 5.
    public var layers: [String] = []
    /// Published layer ARNs in `Layers`: fnhost cannot fetch them, so an invoke fails naming them.
    public var publishedLayers: [String] = []
    /// Set by `--debug-port`: workers start under the runtime's debugger on `127.0.0.1:PORT`,
    /// wait for it to attach, and run without the function's timeout.
    public var debugPort: Int? = nil
    /// `EphemeralStorage.Size`: MB of private `/tmp`, 512–10240.
    public var ephemeralStorage: Int = 512
    /// `ReservedConcurrentExecutions`: `nil` draws from the account's unreserved pool; 0 throttles every invoke.
    public var reservedConcurrency: Int? = nil
    /// `EventInvokeConfig`: retries, maximum event age and destinations of `Event` invocations.
    public var eventInvokeConfig: EventInvokeConfig? = nil
    /// `DeadLetterQueue.TargetArn` (an SQS queue ARN): where finally failed events are sent.
    public var deadLetterQueueARN: String? = nil
    /// `AutoPublishAlias` (`live` when only `ProvisionedConcurrencyConfig` implies one): the one
    /// qualifier besides `$LATEST` that invokes and provisioned-concurrency operations may name.
    public var alias: String? = nil
    /// `ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions`, with the alias it applies to.
    public var provisionedConcurrency: (count: Int, qualifier: String)? {
        get { provisionedCount.map { ($0, provisionedQualifier) } }
        set {
            provisionedCount = newValue?.count
            provisionedQualifier = newValue?.qualifier ?? "live"
        }
    }
    private var provisionedCount: Int? = nil
    private var provisionedQualifier = "live"

    public init(
        logicalID: String,
        functionName: String? = nil,
        runtime: FunctionRuntime,
        handler: String,
        codeDirectory: String,
        memorySize: Int = 128,
        timeout: Int = 3,
        environment: [String: String] = [:],
        description: String = "",
        deferredProperties: [String] = []
    ) {
        self.logicalID = logicalID
        self.functionName = functionName ?? logicalID
        self.runtime = runtime
        self.handler = handler
        self.codeDirectory = codeDirectory
        self.memorySize = memorySize
        self.timeout = timeout
        self.environment = environment
        self.description = description
        self.deferredProperties = deferredProperties
    }
}
