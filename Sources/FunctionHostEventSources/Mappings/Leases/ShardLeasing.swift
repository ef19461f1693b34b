import Foundation
import FunctionHostCore

/// How stream mappings on external streams share their shards with other hosts: the lease store
/// (DynamoDB at the external endpoint), this host's owner name, the lease duration and the table
/// names. With it, every external Kinesis or DynamoDB stream mapping runs through
/// ``LeasedShardOwnership`` and keeps its checkpoints in the lease table.
public struct ShardLeasing: Sendable {
    public var store: any ShardLeaseStore
    /// This host's `leaseOwner`: unique per host process (``ownerName``), so a restarted host takes
    /// its old leases like any other host would, and a template reload takes its own back at once.
    public var owner: String
    /// Milliseconds without renewal after which another host takes a lease.
    public var leaseDuration: Int64
    /// The start of every lease table's name.
    public var tablePrefix: String
    /// The clock leases are timed on.
    public var clock: any HostClock

    /// KCL's default is 10 s as well.
    public static let defaultLeaseDuration: Int64 = 10_000
    public static let defaultTablePrefix = "fnhost-leases"

    public init(
        store: any ShardLeaseStore, owner: String, leaseDuration: Int64 = Self.defaultLeaseDuration,
        tablePrefix: String = Self.defaultTablePrefix, clock: any HostClock
    ) {
        self.store = store
        self.owner = owner
        self.leaseDuration = leaseDuration
        self.tablePrefix = tablePrefix
        self.clock = clock
    }

    /// How often a held lease is renewed: three times per lease duration (KCL's default ratio), so
    /// one late or lost renewal does not cost the lease.
    public static func renewInterval(leaseDuration: Int64) -> Int64 { max(1, leaseDuration / 3) }

    /// This process's owner name: the machine, the process id and a random part (pids are reused).
    public static let ownerName: String = {
        let random = UUID().uuidString.prefix(8).lowercased()
        return "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(random)"
    }()

    /// The lease table of a mapping: the prefix, the function's name and a digest of the source ARN,
    /// which every host serving the same template computes alike (a mapping's UUID would not do:
    /// one created through the API differs per host). At most 255 characters of DynamoDB's alphabet.
    public func tableName(functionName: String, sourceARN: String) -> String {
        let digest = SigV4Signer.payloadHash(of: Data(sourceARN.utf8)).prefix(16)
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
        let function = String(functionName.filter { allowed.contains($0) }.prefix(64))
        return String("\(tablePrefix.filter { allowed.contains($0) }.prefix(160))-\(function)-\(digest)")
    }
}
