/// A `PutRecords` body, decoded into plain values: it may hold up to 8 MiB, and Foundation's
/// dictionaries for tens of thousands of hostile entries would cost the host hundreds of MB.
/// Members are optional here; the endpoint says which are missing in Kinesis's words.
struct PutRecordsRequest: Decodable {
    var StreamName: String?
    var StreamARN: String?
    var Records: [Entry]?

    struct Entry: Decodable {
        var Data: String?
        var PartitionKey: String?
        var ExplicitHashKey: String?

        /// The entry as the parameters of one record (``KinesisEndpoint/record(_:member:)``).
        var parameters: [String: Any] {
            var fields: [String: Any] = [:]
            if let Data { fields["Data"] = Data }
            if let PartitionKey { fields["PartitionKey"] = PartitionKey }
            if let ExplicitHashKey { fields["ExplicitHashKey"] = ExplicitHashKey }
            return fields
        }
    }
}
