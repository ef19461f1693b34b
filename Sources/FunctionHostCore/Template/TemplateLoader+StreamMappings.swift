extension TemplateLoader {
    /// Properties of a Kinesis `Events` entry / `AWS::Lambda::EventSourceMapping` that fnhost reads.
    static let streamMappingProperties: Set<String> = [
        "Stream", "EventSourceArn", "FunctionName", "StartingPosition", "StartingPositionTimestamp", "BatchSize",
        "Enabled", "MaximumBatchingWindowInSeconds", "MaximumRetryAttempts", "MaximumRecordAgeInSeconds",
        "BisectBatchOnFunctionError", "ParallelizationFactor", "TumblingWindowInSeconds", "FunctionResponseTypes",
        "DestinationConfig", "FilterCriteria",
    ]
    /// Accepted without local effect.
    static let acceptedStreamMappingProperties: Set<String> = ["KmsKeyArn", "MetricsConfig", "Tags"]

    /// One Kinesis or DynamoDB Streams mapping: a function event (`eventName` set, `function` known) or a mapping resource.
    func loadStreamMapping(
        logicalID: String, eventName: String?, properties unresolved: TemplateValue, function: FunctionConfiguration?,
        functions: [FunctionConfiguration], streams: [StreamDefinition], queues: [QueueDefinition],
        resolver: IntrinsicResolver, file: String, warnings: inout [String]
    ) throws(TemplateError) -> EventSourceMapping {
        let prefix = eventName.map { "Events.\($0).Properties." } ?? ""
        func failure(_ property: String, _ message: String) -> TemplateError {
            TemplateError(file: file, resource: logicalID, property: prefix + property, message: message)
        }
        guard let entries = unresolved.entries else { throw failure("", "must be a mapping") }
        var properties: [String: TemplateValue] = [:]
        for (name, value) in entries {
            if Self.streamMappingProperties.contains(name) {
                do { properties[name] = try resolver.resolve(value) } catch { throw failure(name, error.message) }
            } else if !Self.acceptedStreamMappingProperties.contains(name) {
                warnings.append("\(file): resource \(logicalID): ignoring unknown property \(prefix)\(name)")
            }
        }
        func integer(_ property: String, default value: Int) throws(TemplateError) -> Int {
            try mappingInteger(properties, property, default: value, failure: failure)
        }
        func boolean(_ property: String, default value: Bool) throws(TemplateError) -> Bool {
            guard let raw = properties[property] else { return value }
            switch raw.string?.lowercased() {
            case "true": return true
            case "false": return false
            default: throw failure(property, "must be true or false")
            }
        }

        let sourceProperty = eventName == nil ? "EventSourceArn" : "Stream"
        guard let sourceText = properties[sourceProperty]?.string, !sourceText.isEmpty else {
            throw failure(sourceProperty, "is missing (give the stream's ARN, e.g. !GetAtt Stream.Arn)")
        }
        // A stream of the template is embedded; any other Kinesis or DynamoDB stream ARN is read from the real service.
        let dynamoDB = sourceText.hasPrefix("arn:aws:dynamodb:")
        let stream = streams.first(where: { account.streamARN($0.name) == sourceText })
        if stream == nil {
            guard (sourceText.hasPrefix("arn:aws:kinesis:") && sourceText.contains(":stream/"))
                || (dynamoDB && sourceText.contains("/stream/"))
            else {
                throw failure(
                    sourceProperty,
                    "\(sourceText) is not a stream of this template, a Kinesis stream ARN or a DynamoDB stream ARN")
            }
        }

        let target = try mappingTarget(function, properties, functions: functions, failure: failure)

        guard let positionText = properties["StartingPosition"]?.string else {
            throw failure("StartingPosition", "is missing (TRIM_HORIZON, LATEST or AT_TIMESTAMP)")
        }
        let position: StreamMappingSettings.StartingPosition
        switch positionText {
        case "TRIM_HORIZON": position = .trimHorizon
        case "LATEST": position = .latest
        case "AT_TIMESTAMP":
            guard let raw = properties["StartingPositionTimestamp"] else {
                throw failure("StartingPositionTimestamp", "is missing (AT_TIMESTAMP needs it, in epoch seconds)")
            }
            guard let text = raw.string, let seconds = Double(text), seconds.isFinite, seconds >= 0, seconds < 1e11 else {
                throw failure("StartingPositionTimestamp", "must be epoch seconds, got \(raw.string ?? "a non-scalar")")
            }
            guard !dynamoDB else { throw failure("StartingPosition", "Unsupported starting position for arn type (AT_TIMESTAMP is for Kinesis)") }
            position = .atTimestamp(Int64(seconds * 1000))
        default:
            throw failure("StartingPosition", "must be TRIM_HORIZON, LATEST or AT_TIMESTAMP, got \(positionText)")
        }
        if properties["StartingPositionTimestamp"] != nil, positionText != "AT_TIMESTAMP" {
            throw failure("StartingPositionTimestamp", "is only valid with StartingPosition AT_TIMESTAMP")
        }

        var settings = StreamMappingSettings(startingPosition: position)
        settings.maximumRetryAttempts = try integer("MaximumRetryAttempts", default: -1)
        settings.maximumRecordAgeInSeconds = try integer("MaximumRecordAgeInSeconds", default: -1)
        settings.bisectBatchOnFunctionError = try boolean("BisectBatchOnFunctionError", default: false)
        settings.parallelizationFactor = try integer("ParallelizationFactor", default: 1)
        settings.tumblingWindowInSeconds = try integer("TumblingWindowInSeconds", default: 0)
        if let raw = properties["DestinationConfig"] {
            if raw["OnSuccess"] != nil {
                throw failure("DestinationConfig.OnSuccess", "Unsupported DestinationConfig parameter for given event source mapping type.")
            }
            guard let destination = raw["OnFailure"]?["Destination"]?.string else {
                throw failure("DestinationConfig.OnFailure.Destination", "is missing (give an SQS queue ARN)")
            }
            guard queues.contains(where: { account.queueARN($0.name) == destination }) else {
                throw failure(
                    "DestinationConfig.OnFailure.Destination",
                    "\(destination) is not a queue of this template (fnhost sends OnFailure records to its embedded SQS queues)")
            }
            settings.onFailureDestination = destination
        }

        var mapping = EventSourceMapping(
            uuid: Self.mappingUUID(logicalID: logicalID, eventName: eventName), logicalID: logicalID,
            functionName: target.functionName,
            source: dynamoDB ? .dynamoDBStream(streamARN: sourceText) : .kinesis(streamARN: stream.map { account.streamARN($0.name) } ?? sourceText))
        mapping.external = stream == nil
        mapping.batchSize = try integer("BatchSize", default: StreamMappingSettings.defaultBatchSize)
        mapping.maximumBatchingWindowInSeconds = try integer("MaximumBatchingWindowInSeconds", default: 0)
        mapping.enabled = try boolean("Enabled", default: true)
        if let raw = properties["FunctionResponseTypes"] {
            guard case .list(let items) = raw else { throw failure("FunctionResponseTypes", "must be a list") }
            for item in items {
                guard item.string == "ReportBatchItemFailures" else {
                    throw failure("FunctionResponseTypes", "\(item.string ?? "a non-string") is not ReportBatchItemFailures")
                }
                mapping.reportBatchItemFailures = true
            }
        }
        mapping.filters = try mappingFilters(properties, failure: failure)
        mapping.stream = settings
        if let (property, message) = settings.violation(
            batchSize: mapping.batchSize, batchingWindow: mapping.maximumBatchingWindowInSeconds)
        {
            throw failure(property, message)
        }
        if let (property, message) = mapping.filtersViolation { throw failure(property, message) }
        return mapping
    }
}
