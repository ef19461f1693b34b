extension TemplateLoader {
    static let streamType = "AWS::Kinesis::Stream"

    /// Properties of `AWS::Kinesis::Stream` that fnhost reads.
    static let streamProperties: Set<String> = ["Name", "ShardCount", "RetentionPeriodHours", "StreamModeDetails"]
    /// Properties of `AWS::Kinesis::Stream` accepted without local effect.
    static let acceptedStreamProperties: Set<String> = ["Tags", "StreamEncryption", "DesiredShardLevelMetrics"]

    /// `!Ref` gives the stream name (`Name`, else the logical id); `!GetAtt` gives `Arn`.
    func streamReferences(name: String) -> (ref: String, attributes: [String: String]) {
        (name, ["Arn": account.streamARN(name)])
    }

    /// Validates one `AWS::Kinesis::Stream` resource.
    func loadStream(
        _ logicalID: String, properties unresolved: TemplateValue, resolver: IntrinsicResolver, file: String,
        warnings: inout [String]
    ) throws(TemplateError) -> StreamDefinition {
        func failure(_ property: String, _ message: String) -> TemplateError {
            TemplateError(file: file, resource: logicalID, property: property, message: message)
        }
        var properties: [String: TemplateValue] = [:]
        for (name, value) in unresolved.entries ?? [] {
            if Self.streamProperties.contains(name) {
                do { properties[name] = try resolver.resolve(value) } catch { throw failure(name, error.message) }
            } else if !Self.acceptedStreamProperties.contains(name) {
                warnings.append("\(file): resource \(logicalID): ignoring unknown property \(name)")
            }
        }
        func integer(_ property: String, _ range: ClosedRange<Int>) throws(TemplateError) -> Int? {
            guard let raw = properties[property] else { return nil }
            guard let text = raw.string, let number = Int(text), range.contains(number) else {
                throw failure(
                    property,
                    "must be an integer from \(range.lowerBound) to \(range.upperBound), got \(raw.string ?? "a non-scalar")")
            }
            return number
        }
        let name: String
        if let raw = properties["Name"] {
            guard let text = raw.string else { throw failure("Name", "must be a string") }
            name = text
        } else {
            name = logicalID
        }
        guard StreamDefinition.isValidName(name) else {
            throw failure("Name", "\(name) is not a valid stream name (1-128 of A-Z, a-z, 0-9, _, . and -)")
        }
        var stream = StreamDefinition(name: name, logicalID: logicalID)
        if let details = properties["StreamModeDetails"] {
            guard let text = details["StreamMode"]?.string else {
                throw failure("StreamModeDetails.StreamMode", "is missing (PROVISIONED or ON_DEMAND)")
            }
            guard let mode = StreamDefinition.Mode(rawValue: text) else {
                throw failure("StreamModeDetails.StreamMode", "must be PROVISIONED or ON_DEMAND, got \(text)")
            }
            stream.mode = mode
        }
        let shards = try integer("ShardCount", StreamDefinition.shardCountRange)
        if stream.mode == .onDemand {
            if shards != nil { throw failure("ShardCount", "must not be given for an ON_DEMAND stream") }
            stream.shardCount = StreamDefinition.onDemandShardCount
        } else {
            stream.shardCount = shards ?? 1
        }
        stream.retentionPeriodHours =
            try integer("RetentionPeriodHours", StreamDefinition.retentionHoursRange) ?? stream.retentionPeriodHours
        return stream
    }

    /// Stream names are unique in a template.
    func checkStreamNames(_ streams: [StreamDefinition], file: String) throws(TemplateError) {
        var names: [String: String] = [:]
        for stream in streams {
            let logicalID = stream.logicalID ?? stream.name
            if let other = names[stream.name] {
                throw TemplateError(
                    file: file, resource: logicalID, property: "Name", message: "\(stream.name) is already the name of \(other)")
            }
            names[stream.name] = logicalID
        }
    }
}
