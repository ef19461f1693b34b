import Crypto
import Foundation

extension TemplateLoader {
    static let eventSourceMappingType = "AWS::Lambda::EventSourceMapping"
    /// Resource types read by the event-source loaders (``loadEventSourceMappings`` and ``loadSchedules``).
    static let eventSourceTypes: Set<String> = [eventSourceMappingType, ruleType, schedulerType]

    /// Properties of an SQS `Events` entry / `AWS::Lambda::EventSourceMapping` that fnhost reads.
    static let sqsMappingProperties: Set<String> = [
        "Queue", "EventSourceArn", "FunctionName", "BatchSize", "MaximumBatchingWindowInSeconds",
        "FunctionResponseTypes", "Enabled", "ScalingConfig", "FilterCriteria",
    ]
    /// Accepted without local effect.
    static let acceptedSQSMappingProperties: Set<String> = [
        "KmsKeyArn", "MetricsConfig", "ProvisionedPollerConfig", "Tags",
    ]
    /// Stream-only settings: an error on an SQS mapping, as on Lambda.
    static let streamOnlyProperties: Set<String> = [
        "StartingPosition", "StartingPositionTimestamp", "ParallelizationFactor", "MaximumRetryAttempts",
        "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError", "TumblingWindowInSeconds", "DestinationConfig",
    ]

    /// The template's event-source mappings: each function's `Events` of `Type: SQS` or `Kinesis`,
    /// and `AWS::Lambda::EventSourceMapping` resources, on queues and streams of this template. Other event
    /// types are reported as warnings (not simulated yet).
    func loadEventSourceMappings(
        _ resources: [(String, TemplateValue)], functions: [FunctionConfiguration], queues: [QueueDefinition],
        streams: [StreamDefinition], resolver: IntrinsicResolver, file: String, warnings: inout [String]
    ) throws(TemplateError) -> [EventSourceMapping] {
        var mappings: [EventSourceMapping] = []
        for (logicalID, resource) in resources {
            let type = resource["Type"]?.string
            if let type, Self.functionTypes.contains(type), let function = functions.first(where: { $0.logicalID == logicalID }) {
                for (eventName, event) in resource["Properties"]?["Events"]?.entries ?? [] {
                    let path = "Events.\(eventName)"
                    guard let eventType = event["Type"]?.string else {
                        throw TemplateError(file: file, resource: logicalID, property: "\(path).Type", message: "is missing")
                    }
                    if Self.scheduleEventTypes.contains(eventType) { continue }
                    if eventType == "Kinesis" || eventType == "DynamoDB" {
                        mappings.append(
                            try loadStreamMapping(
                                logicalID: logicalID, eventName: eventName, properties: event["Properties"] ?? .map([]),
                                function: function, functions: functions, streams: streams, queues: queues,
                                resolver: resolver, file: file, warnings: &warnings))
                        continue
                    }
                    guard eventType == "SQS" else {
                        warnings.append(
                            "\(file): resource \(logicalID): event \(eventName) of type \(eventType) is not simulated by fnhost yet")
                        continue
                    }
                    mappings.append(
                        try loadSQSMapping(
                            logicalID: logicalID, eventName: eventName, properties: event["Properties"] ?? .map([]),
                            function: function, functions: functions, queues: queues, resolver: resolver, file: file,
                            warnings: &warnings))
                }
            } else if type == Self.eventSourceMappingType,
                let arn = resource["Properties"]?["EventSourceArn"].flatMap({ try? resolver.resolve($0).string }),
                arn.hasPrefix("arn:aws:kinesis:") || arn.hasPrefix("arn:aws:dynamodb:")
            {
                mappings.append(
                    try loadStreamMapping(
                        logicalID: logicalID, eventName: nil, properties: resource["Properties"] ?? .map([]),
                        function: nil, functions: functions, streams: streams, queues: queues, resolver: resolver,
                        file: file, warnings: &warnings))
            } else if type == Self.eventSourceMappingType {
                mappings.append(
                    try loadSQSMapping(
                        logicalID: logicalID, eventName: nil, properties: resource["Properties"] ?? .map([]),
                        function: nil, functions: functions, queues: queues, resolver: resolver, file: file,
                        warnings: &warnings))
            }
        }
        return mappings
    }

    /// One SQS mapping: a function event (`eventName` set, `function` known) or a mapping resource.
    private func loadSQSMapping(
        logicalID: String, eventName: String?, properties unresolved: TemplateValue, function: FunctionConfiguration?,
        functions: [FunctionConfiguration], queues: [QueueDefinition], resolver: IntrinsicResolver, file: String,
        warnings: inout [String]
    ) throws(TemplateError) -> EventSourceMapping {
        let prefix = eventName.map { "Events.\($0).Properties." } ?? ""
        func failure(_ property: String, _ message: String) -> TemplateError {
            TemplateError(file: file, resource: logicalID, property: prefix + property, message: message)
        }
        guard let entries = unresolved.entries else { throw failure("", "must be a mapping") }
        var properties: [String: TemplateValue] = [:]
        for (name, value) in entries {
            if Self.streamOnlyProperties.contains(name) {
                throw failure(name, "is not valid for an SQS event source (it applies to Kinesis and DynamoDB streams)")
            } else if Self.sqsMappingProperties.contains(name) {
                do { properties[name] = try resolver.resolve(value) } catch { throw failure(name, error.message) }
            } else if !Self.acceptedSQSMappingProperties.contains(name) {
                warnings.append("\(file): resource \(logicalID): ignoring unknown property \(prefix)\(name)")
            }
        }
        func integer(_ property: String, default value: Int) throws(TemplateError) -> Int {
            try mappingInteger(properties, property, default: value, failure: failure)
        }

        // The queue: Queue (SAM event) or EventSourceArn (resource), an ARN or URL of a template queue.
        let sourceProperty = eventName == nil ? "EventSourceArn" : "Queue"
        guard let sourceText = properties[sourceProperty]?.string, !sourceText.isEmpty else {
            throw failure(sourceProperty, "is missing (give the queue's ARN, e.g. !GetAtt Queue.Arn)")
        }
        // A queue of the template is embedded; any other queue ARN is read from the real service.
        let queue = queues.first(where: { account.queueARN($0.name) == sourceText || queueURL($0.name) == sourceText })
        if queue == nil {
            if !sourceText.hasPrefix("arn:aws:sqs:") && !sourceText.hasPrefix("http") {
                throw failure(sourceProperty, "\(sourceText) is not an SQS queue ARN or URL")
            }
            guard sourceText.hasPrefix("arn:aws:sqs:"), sourceText.split(separator: ":").count == 6 else {
                throw failure(
                    sourceProperty,
                    "\(sourceText) is not a queue of this template; name an external queue by its ARN (arn:aws:sqs:REGION:ACCOUNT:NAME)")
            }
        }

        // The function: the event's owner, or FunctionName (a name or ARN) of the resource.
        let target = try mappingTarget(function, properties, functions: functions, failure: failure)

        var mapping = EventSourceMapping(
            uuid: Self.mappingUUID(logicalID: logicalID, eventName: eventName), logicalID: logicalID,
            functionName: target.functionName, source: .sqs(queueARN: queue.map { account.queueARN($0.name) } ?? sourceText))
        mapping.external = queue == nil
        mapping.batchSize = try integer("BatchSize", default: EventSourceMapping.defaultBatchSize)
        mapping.maximumBatchingWindowInSeconds = try integer("MaximumBatchingWindowInSeconds", default: 0)
        if let raw = properties["Enabled"] {
            switch raw.string?.lowercased() {
            case "true": mapping.enabled = true
            case "false": mapping.enabled = false
            default: throw failure("Enabled", "must be true or false")
            }
        }
        if let raw = properties["FunctionResponseTypes"] {
            guard case .list(let items) = raw else { throw failure("FunctionResponseTypes", "must be a list") }
            for item in items {
                guard item.string == "ReportBatchItemFailures" else {
                    throw failure("FunctionResponseTypes", "\(item.string ?? "a non-string") is not ReportBatchItemFailures")
                }
                mapping.reportBatchItemFailures = true
            }
        }
        if let raw = properties["ScalingConfig"] {
            guard let entries = raw.entries else { throw failure("ScalingConfig", "must be a mapping") }
            for (key, value) in entries {
                guard key == "MaximumConcurrency" else {
                    throw failure("ScalingConfig.\(key)", "is not a ScalingConfig property (MaximumConcurrency)")
                }
                guard let text = value.string, let number = Int(text) else {
                    throw failure("ScalingConfig.MaximumConcurrency", "must be an integer")
                }
                mapping.maximumConcurrency = number
            }
        }
        mapping.filters = try mappingFilters(properties, failure: failure)
        if let (property, message) = mapping.violation(fifo: queue?.fifo ?? sourceText.hasSuffix(".fifo")) {
            throw failure(property, message)
        }
        if let queue, queue.visibilityTimeout < target.timeout {
            throw failure(
                sourceProperty,
                "Queue visibility timeout: \(queue.visibilityTimeout) seconds is less than Function timeout: \(target.timeout) seconds"
            )
        }
        return mapping
    }

    /// A mapping's `FilterCriteria.Filters` patterns (SQS and streams); none when it has no `FilterCriteria`.
    func mappingFilters(
        _ properties: [String: TemplateValue], failure: (String, String) -> TemplateError
    ) throws(TemplateError) -> [EventFilterPattern] {
        guard let raw = properties["FilterCriteria"] else { return [] }
        guard case .list(let filters)? = raw["Filters"] else {
            throw failure("FilterCriteria.Filters", "must be a list of {Pattern: JSON text}")
        }
        var patterns: [EventFilterPattern] = []
        for (index, filter) in filters.enumerated() {
            guard let text = filter["Pattern"]?.string else {
                throw failure("FilterCriteria.Filters[\(index)].Pattern", "is missing or not a JSON string")
            }
            do {
                patterns.append(try EventFilterPattern(parsing: text))
            } catch {
                throw failure("FilterCriteria.Filters[\(index)].Pattern", error.description)
            }
        }
        return patterns
    }

    /// A mapping's integer property, `value` when it is absent.
    func mappingInteger(
        _ properties: [String: TemplateValue], _ property: String, default value: Int,
        failure: (String, String) -> TemplateError
    ) throws(TemplateError) -> Int {
        guard let raw = properties[property] else { return value }
        guard let text = raw.string, let number = Int(text) else {
            throw failure(property, "must be an integer, got \(raw.string ?? "a non-scalar")")
        }
        return number
    }

    /// A mapping's function: the event's owner, else the resource's `FunctionName` (a name or ARN
    /// of a function of the template).
    func mappingTarget(
        _ function: FunctionConfiguration?, _ properties: [String: TemplateValue], functions: [FunctionConfiguration],
        failure: (String, String) -> TemplateError
    ) throws(TemplateError) -> FunctionConfiguration {
        if let function { return function }
        guard let text = properties["FunctionName"]?.string, !text.isEmpty else {
            throw failure("FunctionName", "is missing (give !Ref Function or !GetAtt Function.Arn)")
        }
        guard let reference = FunctionReference(parsing: text),
            let found = functions.first(where: { $0.functionName == reference.name })
        else { throw failure("FunctionName", "\(text) is not a function of this template") }
        return found
    }

    private func queueURL(_ name: String) -> String { "\(queueEndpoint)/\(account.accountID)/\(name)" }

    /// A template mapping's UUID: stable across restarts (derived from where it is declared).
    static func mappingUUID(logicalID: String, eventName: String?) -> String {
        var bytes = Array(Insecure.MD5.hash(data: Data("fnhost-esm:\(logicalID):\(eventName ?? "")".utf8)))
        bytes[6] = (bytes[6] & 0x0F) | 0x30  // version 3 (name-based, MD5)
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let uuid = UUID(uuid: (
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
            bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        return uuid.uuidString.lowercased()
    }
}
