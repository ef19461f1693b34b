import FunctionHostCore
import NIOCore
import Synchronization

/// Shard lease tables in DynamoDB at the external endpoint (`AWS_ENDPOINT_URL_DYNAMODB`, else
/// `AWS_ENDPOINT_URL`, else the regional one): the adapter behind ``ShardLeaseStore``.
///
/// A table is created on first use (`PAY_PER_REQUEST`, key `shardId`) and used once `ACTIVE`. An
/// item holds `leaseOwner` (S, absent while free), `leaseCounter` (N), `checkpoint` (S, the last
/// sequence number done) and `checkpointOrder` (S: the checkpoint's length in four digits, then its
/// digits, so text order is numeric order for DynamoDB's conditions). `windowState` (S) is the open
/// tumbling windows a stream mapping carries with its checkpoint (opaque here). Every write is
/// conditional; `ConditionalCheckFailedException` is the answer `false`/`nil`. Thread-safe;
/// throws ``RemoteSourceError``.
public final class DynamoDBLeaseStore: ShardLeaseStore {
    let client: AWSJSONClient
    /// How long one call may take: a renewal that arrives after the lease expired is no use.
    let timeout: TimeAmount
    private let ready = Mutex<Set<String>>([])

    /// How long a new table may take to become `ACTIVE`, and how often it is asked.
    static let activeTimeout: Duration = .seconds(60)
    static let activePoll: Duration = .milliseconds(200)

    public init(client: AWSJSONClient, timeout: TimeAmount) {
        self.client = client
        self.timeout = timeout
    }

    private func call(_ operation: String, _ parameters: [String: Any]) async throws -> [String: Any] {
        try await client.call(operation, parameters, timeout: timeout)
    }

    public func prepare(table: String) async throws {
        if ready.withLock({ $0.contains(table) }) { return }
        do {
            _ = try await call(
                "CreateTable",
                [
                    "TableName": table, "BillingMode": "PAY_PER_REQUEST",
                    "KeySchema": [["AttributeName": "shardId", "KeyType": "HASH"]],
                    "AttributeDefinitions": [["AttributeName": "shardId", "AttributeType": "S"]],
                ])
        } catch let error as RemoteSourceError where error.code == "ResourceInUseException" {
            // Another host created it.
        }
        let deadline = ContinuousClock.now + Self.activeTimeout
        while true {
            let answer = try await call("DescribeTable", ["TableName": table])
            if (answer["Table"] as? [String: Any])?["TableStatus"] as? String == "ACTIVE" { break }
            guard ContinuousClock.now < deadline else {
                throw RemoteSourceError(
                    service: "dynamodb", code: "TableNotActive", message: "\(table) did not become ACTIVE")
            }
            try await Task.sleep(for: Self.activePoll)
        }
        ready.withLock { _ = $0.insert(table) }
    }

    public func leases(table: String) async throws -> [ShardLease] {
        var leases: [ShardLease] = []
        var parameters: [String: Any] = ["TableName": table, "ConsistentRead": true]
        for _ in 0..<AWSJSONClient.maximumPages {
            let answer = try await call("Scan", parameters)
            leases += (answer["Items"] as? [[String: Any]] ?? []).compactMap(Self.lease)
            guard let last = answer["LastEvaluatedKey"] as? [String: Any], !last.isEmpty else { return leases }
            parameters["ExclusiveStartKey"] = last
        }
        throw AWSJSONClient.endlessListing("dynamodb", "Scan")
    }

    public func create(table: String, shardID: String) async throws -> Bool {
        try await conditional {
            _ = try await call(
                "PutItem",
                [
                    "TableName": table, "Item": ["shardId": ["S": shardID], "leaseCounter": ["N": "0"]],
                    "ConditionExpression": "attribute_not_exists(#shard)",
                    "ExpressionAttributeNames": ["#shard": "shardId"],
                ])
        } != nil
    }

    public func take(table: String, shardID: String, expectedCounter: Int, owner: String) async throws -> ShardLease? {
        let answer = try await update(
            table, shardID, "SET #owner = :owner, #counter = :next", when: "#counter = :expected",
            names: ["#owner": "leaseOwner", "#counter": "leaseCounter"],
            values: [
                ":owner": ["S": owner], ":next": ["N": String(expectedCounter + 1)],
                ":expected": ["N": String(expectedCounter)],
            ],
            returningItem: true)
        // The item as it is now: this shard's, ours, or the answer is not one to start a shard on.
        return (answer?["Attributes"] as? [String: Any]).flatMap(Self.lease).flatMap { lease in
            lease.shardID == shardID && lease.owner == owner ? lease : nil
        }
    }

    public func renew(table: String, shardID: String, counter: Int, owner: String) async throws -> Bool {
        try await update(
            table, shardID, "SET #counter = :next", when: "#owner = :owner AND #counter = :expected",
            names: ["#owner": "leaseOwner", "#counter": "leaseCounter"],
            values: [":owner": ["S": owner], ":next": ["N": String(counter + 1)], ":expected": ["N": String(counter)]]
        ) != nil
    }

    public func release(table: String, shardID: String, owner: String) async throws -> Bool {
        try await update(
            table, shardID, "REMOVE #owner ADD #counter :one", when: "#owner = :owner",
            names: ["#owner": "leaseOwner", "#counter": "leaseCounter"],
            values: [":owner": ["S": owner], ":one": ["N": "1"]]) != nil
    }

    public func checkpoint(table: String, shardID: String, sequenceNumber: String, windowState: String?, owner: String)
        async throws -> Bool
    {
        var names = ["#owner": "leaseOwner", "#checkpoint": "checkpoint", "#order": "checkpointOrder"]
        var values: [String: Any] = [
            ":owner": ["S": owner], ":sequence": ["S": sequenceNumber], ":order": ["S": Self.order(sequenceNumber)],
        ]
        var update = "SET #checkpoint = :sequence, #order = :order"
        if let windowState {
            update += ", #window = :window"
            names["#window"] = "windowState"
            values[":window"] = ["S": windowState]
        }
        let written = try await self.update(
            table, shardID, update, when: "#owner = :owner AND (attribute_not_exists(#order) OR #order < :order)",
            names: names, values: values)
        if written != nil { return true }
        // Still this host's, and the stored checkpoint is ahead (lanes finish out of order): nothing to write.
        let answer = try await call(
            "GetItem", ["TableName": table, "Key": ["shardId": ["S": shardID]], "ConsistentRead": true])
        return (answer["Item"] as? [String: Any]).flatMap(Self.lease)?.owner == owner
    }

    public func saveWindowState(table: String, shardID: String, windowState: String, owner: String) async throws -> Bool {
        try await update(
            table, shardID, "SET #window = :window", when: "#owner = :owner",
            names: ["#owner": "leaseOwner", "#window": "windowState"],
            values: [":owner": ["S": owner], ":window": ["S": windowState]]) != nil
    }

    /// A conditional `UpdateItem` of `shardID`'s item: the answer (with the item as written when
    /// `returningItem`), or `nil` when `condition` did not hold.
    private func update(
        _ table: String, _ shardID: String, _ expression: String, when condition: String, names: [String: String],
        values: [String: Any], returningItem: Bool = false
    ) async throws -> [String: Any]? {
        var parameters: [String: Any] = [
            "TableName": table, "Key": ["shardId": ["S": shardID]], "UpdateExpression": expression,
            "ConditionExpression": condition, "ExpressionAttributeNames": names, "ExpressionAttributeValues": values,
        ]
        if returningItem { parameters["ReturnValues"] = "ALL_NEW" }
        return try await conditional { try await call("UpdateItem", parameters) }
    }

    /// Runs a conditional write; `nil` when its condition did not hold.
    private func conditional<Result>(_ body: () async throws -> Result) async throws -> Result? {
        do {
            return try await body()
        } catch let error as RemoteSourceError where error.code == "ConditionalCheckFailedException" {
            return nil
        }
    }

    /// A sequence number as text that sorts numerically: its length in four digits, then itself.
    static func order(_ sequenceNumber: String) -> String {
        let length = String(sequenceNumber.utf8.count)
        return String(repeating: "0", count: max(0, 4 - length.count)) + length + sequenceNumber
    }

    /// A lease from an item in DynamoDB's JSON; `nil` for an item that is not one (or whose counter
    /// could not be counted on from).
    static func lease(_ item: [String: Any]) -> ShardLease? {
        func string(_ name: String) -> String? { (item[name] as? [String: Any])?["S"] as? String }
        guard let shardID = string("shardId"),
            let counter = ((item["leaseCounter"] as? [String: Any])?["N"] as? String).flatMap({ Int($0) }),
            (0..<Int.max / 2).contains(counter)
        else { return nil }
        // An empty checkpoint is none: read as a sequence number it would start the shard at its oldest record.
        return ShardLease(
            shardID: shardID, owner: string("leaseOwner"), counter: counter,
            checkpoint: string("checkpoint").flatMap { $0.isEmpty ? nil : $0 }, windowState: string("windowState"))
    }
}
