/// An embedded Kinesis stream's name and settings, as a template (`AWS::Kinesis::Stream`) or
/// `CreateStream` defines it. Values are already validated against the limits declared here.
public struct StreamDefinition: Sendable, Hashable {
    /// `StreamModeDetails.StreamMode`.
    public enum Mode: String, Sendable, Hashable {
        case provisioned = "PROVISIONED"
        case onDemand = "ON_DEMAND"
    }

    /// The template's logical id, when the stream comes from a template.
    public var logicalID: String?
    public var name: String
    public var shardCount: Int
    public var retentionPeriodHours: Int
    public var mode: Mode

    public init(
        name: String, logicalID: String? = nil, shardCount: Int = 1, retentionPeriodHours: Int = 24,
        mode: Mode = .provisioned
    ) {
        self.name = name
        self.logicalID = logicalID
        self.shardCount = shardCount
        self.retentionPeriodHours = retentionPeriodHours
        self.mode = mode
    }

    /// Kinesis's name rule: 1–128 of `[a-zA-Z0-9_.-]`.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 128
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-") }
    }

    /// Shards of one embedded stream (Kinesis's default account quota is far higher; this keeps one
    /// request from making the host track millions of shards).
    public static let shardCountRange = 1...1000
    /// An on-demand stream starts with 4 shards, as on Kinesis.
    public static let onDemandShardCount = 4
    public static let retentionHoursRange = 24...8760
}

extension AccountContext {
    /// `arn:aws:kinesis:REGION:ACCOUNT:stream/NAME`.
    public func streamARN(_ name: String) -> String { "arn:aws:kinesis:\(region):\(accountID):stream/\(name)" }

    /// The stream name a Kinesis ARN of this account and region names, or `nil`.
    public func streamName(fromARN arn: String) -> String? {
        let prefix = "arn:aws:kinesis:\(region):\(accountID):stream/"
        guard arn.hasPrefix(prefix) else { return nil }
        let name = String(arn.dropFirst(prefix.count))
        return StreamDefinition.isValidName(name) ? name : nil
    }
}
