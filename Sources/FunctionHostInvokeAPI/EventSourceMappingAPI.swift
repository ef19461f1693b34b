import Foundation
import FunctionHostCore
import HTTPTypes
import Hummingbird
import NIOCore

/// `Create/Get/Update/Delete/ListEventSourceMapping(s)` on the Invoke API's port, as Lambda
/// serves them under `/2015-03-31/event-source-mappings/`: validation of the request (the same
/// limits the template loader applies, from ``EventSourceMapping``) and AWS-shaped errors here,
/// execution through ``EventSourceMappingControl``.
///
/// Mappings created or changed here last until the host stops (the template is the source of truth).
/// A queue or stream the host does not have is read from the real service, as in a template
/// (``EventSourceMapping/external``), when the host has clients for it (credentials were found).
public struct EventSourceMappingAPI: Sendable {
    let api: InvokeAPI
    let control: any EventSourceMappingControl
    let queues: any QueueConsumer
    /// The streams Kinesis mappings may read; `nil` when the host has none.
    let streams: (any StreamReader)?
    /// Clients of the real SQS, Kinesis and DynamoDB Streams; `nil` without credentials.
    let externalQueues: (any QueueConsumer)?
    let externalKinesis: (any StreamReader)?
    let dynamoDBStreams: (any StreamReader)?

    public init(
        api: InvokeAPI, control: any EventSourceMappingControl, queues: any QueueConsumer,
        streams: (any StreamReader)? = nil, externalQueues: (any QueueConsumer)? = nil,
        externalKinesis: (any StreamReader)? = nil, dynamoDBStreams: (any StreamReader)? = nil
    ) {
        self.api = api
        self.control = control
        self.queues = queues
        self.streams = streams
        self.externalQueues = externalQueues
        self.externalKinesis = externalKinesis
        self.dynamoDBStreams = dynamoDBStreams
    }

    static let path = "/2015-03-31/event-source-mappings"
    /// `ListEventSourceMappings` `MaxItems` (Lambda: 1–10,000; 100 when absent).
    static let maxItemsRange = 1...10_000
    static let defaultMaxItems = 100

    public func addRoutes(to router: Router<ServeRequestContext>) {
        router.post(RouterPath(Self.path)) { request, _ in
            await api.answer { requestID throws(LambdaAPIError) in try await self.create(request, requestID) }
        }
        router.get(RouterPath(Self.path)) { request, _ in
            await api.answer { requestID throws(LambdaAPIError) in try self.list(request, requestID) }
        }
        router.get(RouterPath(Self.path + "/:uuid")) { _, context in
            await api.answer { requestID throws(LambdaAPIError) in
                let status = try self.existing(context)
                return InvokeAPI.json(self.document(status), requestID: requestID)
            }
        }
        router.put(RouterPath(Self.path + "/:uuid")) { request, context in
            await api.answer { requestID throws(LambdaAPIError) in try await self.update(request, context, requestID) }
        }
        router.delete(RouterPath(Self.path + "/:uuid")) { _, context in
            await api.answer { requestID throws(LambdaAPIError) in
                let status = try self.existing(context)
                guard let deleted = control.delete(uuid: status.mapping.uuid) else { throw Self.notFound }
                return InvokeAPI.json(self.document(deleted), status: .accepted, requestID: requestID)
            }
        }
    }

    // MARK: Operations

    private func create(_ request: Request, _ requestID: String) async throws(LambdaAPIError) -> Response {
        let body = try await InvokeAPI.readObject(request)
        guard let functionText = body["FunctionName"] as? String else {
            throw .invalidParameter("FunctionName is required.")
        }
        let function = try function(named: functionText)
        guard let sourceARN = body["EventSourceArn"] as? String, !sourceARN.isEmpty else {
            throw .invalidParameter("EventSourceArn is required for an SQS event source.")
        }
        if sourceARN.hasPrefix("arn:aws:kinesis:") || sourceARN.hasPrefix("arn:aws:dynamodb:") {
            return try await createStreamMapping(body, function: function, streamARN: sourceARN, requestID: requestID)
        }
        guard sourceARN.hasPrefix("arn:aws:sqs:") else {
            throw .invalidParameter("Unsupported event source type: fnhost serves SQS queues, Kinesis and DynamoDB streams.")
        }
        var mapping = EventSourceMapping(functionName: function.functionName, source: .sqs(queueARN: sourceARN))
        // A queue the host does not have is the real service's.
        let queue: ConsumedQueueInfo
        if let embedded = try? await queues.consumerInfo(queueARN: sourceARN) {
            queue = embedded
        } else {
            mapping.external = externalQueues != nil
            queue = try await queueInfo(sourceARN, external: mapping.external)
        }
        try apply(body, to: &mapping, queue: queue, function: function)
        if queue.visibilityTimeout < function.timeout {
            throw .invalidParameter(
                "Queue visibility timeout: \(queue.visibilityTimeout) seconds is less than Function timeout: \(function.timeout) seconds")
        }
        guard var status = control.create(mapping) else { throw .functionNotFound(api.account.functionARN(functionText)) }
        status.state = mapping.enabled ? "Creating" : "Disabled"
        return InvokeAPI.json(document(status), status: .accepted, requestID: requestID)
    }

    /// `CreateEventSourceMapping` on a Kinesis stream of the host, or on a Kinesis or DynamoDB
    /// stream of the real service.
    private func createStreamMapping(
        _ body: [String: Any], function: FunctionConfiguration, streamARN: String, requestID: String
    ) async throws(LambdaAPIError) -> Response {
        if body["ScalingConfig"] != nil {
            throw .invalidParameter("Unsupported ScalingConfig parameter for given event source mapping type.")
        }
        let dynamoDB = streamARN.hasPrefix("arn:aws:dynamodb:")
        let position: StreamMappingSettings.StartingPosition
        switch body["StartingPosition"] as? String {
        case "TRIM_HORIZON": position = .trimHorizon
        case "LATEST": position = .latest
        case "AT_TIMESTAMP":
            guard let seconds = body["StartingPositionTimestamp"] as? Double, seconds.isFinite, (0..<1e11).contains(seconds)
            else { throw .invalidParameter("StartingPositionTimestamp is required for AT_TIMESTAMP, in epoch seconds.") }
            position = .atTimestamp(Int64(seconds * 1000))
        case nil: throw .invalidParameter("StartingPosition is required for a stream event source.")
        case let other?:
            throw .validation(
                value: other, field: "startingPosition",
                constraint: "Member must satisfy enum value set: [TRIM_HORIZON, LATEST, AT_TIMESTAMP]")
        }
        var settings = StreamMappingSettings(startingPosition: position)
        if let raw = body["DestinationConfig"] {
            guard let config = raw as? [String: Any] else { throw .invalidParameter("DestinationConfig must be an object.") }
            if config["OnSuccess"] != nil {
                throw .invalidParameter("Unsupported DestinationConfig parameter for given event source mapping type.")
            }
            if let destination = (config["OnFailure"] as? [String: Any])?["Destination"] as? String {
                _ = try await queueInfo(destination)
                settings.onFailureDestination = destination
            }
        }
        if dynamoDB, case .atTimestamp = position {
            throw .invalidParameter("Unsupported starting position for arn type.")
        }
        var mapping = EventSourceMapping(
            functionName: function.functionName,
            source: dynamoDB ? .dynamoDBStream(streamARN: streamARN) : .kinesis(streamARN: streamARN))
        mapping.batchSize = StreamMappingSettings.defaultBatchSize
        mapping.stream = settings
        try applyStream(body, to: &mapping)
        // The host's stream, else (credentials given) the real service's: looked up once the request is known valid.
        let external = dynamoDB ? dynamoDBStreams : externalKinesis
        var isEmbedded = false
        if !dynamoDB, let streams { isEmbedded = (try? await streams.shardIDs(streamARN: streamARN)) != nil }
        if !isEmbedded {
            guard let external, (try? await external.shardIDs(streamARN: streamARN)) != nil else {
                throw .invalidParameter(
                    "Stream not found: \(streamARN) (fnhost reads its embedded Kinesis, and the real service's streams when it has credentials).")
            }
        }
        mapping.external = !isEmbedded
        guard var status = control.create(mapping) else { throw .functionNotFound(api.account.functionARN(function.functionName)) }
        status.state = mapping.enabled ? "Creating" : "Disabled"
        return InvokeAPI.json(document(status), status: .accepted, requestID: requestID)
    }

    private func update(_ request: Request, _ context: ServeRequestContext, _ requestID: String) async throws(
        LambdaAPIError
    ) -> Response {
        let current = try existing(context)
        let body = try await InvokeAPI.readObject(request)
        var mapping = current.mapping
        if let functionText = body["FunctionName"] as? String {
            let function = try function(named: functionText)
            guard function.functionName == mapping.functionName else {
                throw .invalidParameter("fnhost cannot move a mapping to another function; delete it and create a new one.")
            }
        }
        guard let function = api.catalog.entry(named: mapping.functionName)?.configuration else {
            throw .functionNotFound(api.account.functionARN(mapping.functionName))
        }
        if mapping.stream != nil {
            try applyStream(body, to: &mapping)
        } else {
            let queue = try await queueInfo(mapping.source.arn, external: mapping.external)
            try apply(body, to: &mapping, queue: queue, function: function)
        }
        mapping.lastModified = Date().timeIntervalSince1970
        guard var status = control.update(uuid: mapping.uuid, to: mapping) else { throw Self.notFound }
        status.state = "Updating"
        return InvokeAPI.json(document(status), status: .accepted, requestID: requestID)
    }

    private func list(_ request: Request, _ requestID: String) throws(LambdaAPIError) -> Response {
        let query = request.uri.queryParameters
        func parameter(_ name: String) -> String? { query.get(name).map { $0.removingPercentEncoding ?? $0 } }
        var items = control.list()
        if let source = parameter("EventSourceArn") { items = items.filter { $0.mapping.source.arn == source } }
        if let functionText = parameter("FunctionName") {
            guard let reference = FunctionReference(parsing: functionText) else {
                throw .validation(
                    value: functionText, field: "functionName",
                    constraint: "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?")
            }
            items = items.filter { $0.mapping.functionName == reference.name }
        }
        var start = 0
        if let marker = parameter("Marker") {
            guard let index = Int(marker), (0...items.count).contains(index) else {
                throw .invalidParameter("Invalid marker: \(marker)")
            }
            start = index
        }
        var maxItems = Self.defaultMaxItems
        if let text = parameter("MaxItems") {
            guard let value = Int(text), Self.maxItemsRange.contains(value) else {
                throw .validation(
                    value: text, field: "maxItems", constraint: "Member must have value between 1 and 10000")
            }
            maxItems = value
        }
        let end = min(items.count, start + maxItems)
        let page = items[start..<end].map(document)
        return InvokeAPI.json(
            MappingList(EventSourceMappings: Array(page), NextMarker: end < items.count ? String(end) : nil),
            requestID: requestID)
    }

    // MARK: Helpers

    static let notFound = LambdaAPIError(
        status: .notFound, code: "ResourceNotFoundException", message: "The resource you requested does not exist.",
        messageKey: "Message")

    private func existing(_ context: ServeRequestContext) throws(LambdaAPIError) -> EventSourceMappingStatus {
        let uuid = context.parameters.get("uuid").map { $0.removingPercentEncoding ?? $0 } ?? ""
        guard let status = control.get(uuid: uuid.lowercased()) else { throw Self.notFound }
        return status
    }

    private func function(named text: String) throws(LambdaAPIError) -> FunctionConfiguration {
        guard let reference = FunctionReference(parsing: text), reference.accountID ?? api.account.accountID == api.account.accountID,
            let entry = api.catalog.entry(named: reference.name)
        else { throw .functionNotFound(api.account.functionARN(text)) }
        return entry.configuration
    }

    /// A queue's settings: the host's, or (`external`) the real service's.
    private func queueInfo(_ arn: String, external: Bool = false) async throws(LambdaAPIError) -> ConsumedQueueInfo {
        let consumer = external ? externalQueues : queues
        guard let consumer, let info = try? await consumer.consumerInfo(queueARN: arn) else {
            throw .invalidParameter(
                "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. The queue \(arn) does not exist.")
        }
        return info
    }

    /// Applies the request's settings, then checks the whole mapping against Lambda's rules.
    private func apply(
        _ body: [String: Any], to mapping: inout EventSourceMapping, queue: ConsumedQueueInfo,
        function: FunctionConfiguration
    ) throws(LambdaAPIError) {
        for key in ["StartingPosition", "StartingPositionTimestamp", "ParallelizationFactor", "BisectBatchOnFunctionError",
            "MaximumRetryAttempts", "MaximumRecordAgeInSeconds", "TumblingWindowInSeconds", "DestinationConfig"]
        where body[key] != nil {
            throw .invalidParameter("Unsupported \(key) parameter for given event source mapping type.")
        }
        try Self.applyCommon(body, to: &mapping)
        if let raw = body["ScalingConfig"] {
            guard let config = raw as? [String: Any] else { throw .invalidParameter("ScalingConfig must be an object.") }
            if let value = config["MaximumConcurrency"] {
                guard let number = value as? Int else { throw .invalidParameter("MaximumConcurrency must be an integer.") }
                mapping.maximumConcurrency = number
            } else {
                mapping.maximumConcurrency = nil
            }
        }
        try Self.applyFilters(body, to: &mapping)
        if let (property, message) = mapping.violation(fifo: queue.fifo) {
            throw .invalidParameter("\(property): \(message)")
        }
    }

    /// The settings every mapping has: `BatchSize`, `MaximumBatchingWindowInSeconds`, `Enabled`,
    /// `FunctionResponseTypes`.
    private static func applyCommon(_ body: [String: Any], to mapping: inout EventSourceMapping) throws(LambdaAPIError) {
        if let value = try integer("BatchSize", in: body) { mapping.batchSize = value }
        if let value = try integer("MaximumBatchingWindowInSeconds", in: body) { mapping.maximumBatchingWindowInSeconds = value }
        if let raw = body["Enabled"] {
            guard let value = raw as? Bool else { throw .invalidParameter("Enabled must be true or false.") }
            mapping.enabled = value
        }
        if let raw = body["FunctionResponseTypes"] {
            guard let types = raw as? [String], types.allSatisfy({ $0 == "ReportBatchItemFailures" }) else {
                throw .validation(
                    value: "\(raw)", field: "functionResponseTypes",
                    constraint: "Member must satisfy enum value set: [ReportBatchItemFailures]")
            }
            mapping.reportBatchItemFailures = !types.isEmpty
        }
    }

    /// `body[key]` as an integer, when present.
    private static func integer(_ key: String, in body: [String: Any]) throws(LambdaAPIError) -> Int? {
        guard let raw = body[key] else { return nil }
        guard let value = raw as? Int else {
            throw .validation(value: "\(raw)", field: key.prefix(1).lowercased() + key.dropFirst(), constraint: "Member must be an integer")
        }
        return value
    }

    /// `FilterCriteria` of a create or update (SQS and streams): its patterns replace the mapping's.
    private static func applyFilters(_ body: [String: Any], to mapping: inout EventSourceMapping) throws(LambdaAPIError) {
        guard let raw = body["FilterCriteria"] else { return }
        guard let criteria = raw as? [String: Any] else { throw .invalidParameter("Invalid filter pattern definition.") }
        var filters: [EventFilterPattern] = []
        for entry in criteria["Filters"] as? [Any] ?? [] {
            guard let text = (entry as? [String: Any])?["Pattern"] as? String else {
                throw .invalidParameter("Invalid filter pattern definition.")
            }
            do {
                filters.append(try EventFilterPattern(parsing: text))
            } catch {
                throw .invalidParameter(error.description)
            }
        }
        mapping.filters = filters
    }

    /// Applies an update of a stream mapping's settings (its stream and starting position stay).
    private func applyStream(_ body: [String: Any], to mapping: inout EventSourceMapping) throws(LambdaAPIError) {
        guard var settings = mapping.stream else { return }
        if body["ScalingConfig"] != nil {
            throw .invalidParameter("Unsupported ScalingConfig parameter for given event source mapping type.")
        }
        try Self.applyFilters(body, to: &mapping)
        if let (property, message) = mapping.filtersViolation { throw .invalidParameter("\(property): \(message)") }
        func integer(_ key: String) throws(LambdaAPIError) -> Int? { try Self.integer(key, in: body) }
        try Self.applyCommon(body, to: &mapping)
        if let value = try integer("MaximumRetryAttempts") { settings.maximumRetryAttempts = value }
        if let value = try integer("MaximumRecordAgeInSeconds") { settings.maximumRecordAgeInSeconds = value }
        if let value = try integer("ParallelizationFactor") { settings.parallelizationFactor = value }
        if let value = try integer("TumblingWindowInSeconds") { settings.tumblingWindowInSeconds = value }
        if let raw = body["BisectBatchOnFunctionError"] {
            guard let value = raw as? Bool else { throw .invalidParameter("BisectBatchOnFunctionError must be true or false.") }
            settings.bisectBatchOnFunctionError = value
        }
        if let (property, message) = settings.violation(
            batchSize: mapping.batchSize, batchingWindow: mapping.maximumBatchingWindowInSeconds)
        {
            throw .invalidParameter("\(property): \(message)")
        }
        mapping.stream = settings
    }

    func document(_ status: EventSourceMappingStatus) -> MappingDocument {
        let mapping = status.mapping
        let stream = mapping.stream
        var position: Double?
        if case .atTimestamp(let time)? = stream?.startingPosition { position = Double(time) / 1000 }
        return MappingDocument(
            UUID: mapping.uuid, BatchSize: mapping.batchSize,
            MaximumBatchingWindowInSeconds: mapping.maximumBatchingWindowInSeconds, EventSourceArn: mapping.source.arn,
            FunctionArn: api.account.functionARN(mapping.functionName), LastModified: mapping.lastModified,
            LastProcessingResult: status.lastProcessingResult, State: status.state,
            StateTransitionReason: status.stateTransitionReason,
            FunctionResponseTypes: mapping.reportBatchItemFailures ? ["ReportBatchItemFailures"] : [],
            ScalingConfig: mapping.maximumConcurrency.map { .init(MaximumConcurrency: $0) },
            FilterCriteria: mapping.filters.isEmpty ? nil : .init(Filters: mapping.filters.map { .init(Pattern: $0.text) }),
            EventSourceMappingArn: mapping.arn(in: api.account),
            StartingPosition: stream?.startingPosition.name, StartingPositionTimestamp: position,
            MaximumRetryAttempts: stream?.maximumRetryAttempts, MaximumRecordAgeInSeconds: stream?.maximumRecordAgeInSeconds,
            BisectBatchOnFunctionError: stream?.bisectBatchOnFunctionError,
            ParallelizationFactor: stream?.parallelizationFactor, TumblingWindowInSeconds: stream?.tumblingWindowInSeconds,
            DestinationConfig: stream.map { .init(OnFailure: .init(Destination: $0.onFailureDestination)) })
    }
}

/// `EventSourceMappingConfiguration` as Lambda returns it (`LastModified` in epoch seconds).
struct MappingDocument: Encodable {
    var UUID: String
    var BatchSize: Int
    var MaximumBatchingWindowInSeconds: Int
    var EventSourceArn: String
    var FunctionArn: String
    var LastModified: Double
    var LastProcessingResult: String
    var State: String
    var StateTransitionReason: String
    var FunctionResponseTypes: [String]
    var ScalingConfig: Scaling?
    var FilterCriteria: Criteria?
    var EventSourceMappingArn: String
    // Stream mappings only (absent for queues).
    var StartingPosition: String?
    var StartingPositionTimestamp: Double?
    var MaximumRetryAttempts: Int?
    var MaximumRecordAgeInSeconds: Int?
    var BisectBatchOnFunctionError: Bool?
    var ParallelizationFactor: Int?
    var TumblingWindowInSeconds: Int?
    var DestinationConfig: Destinations?

    struct Scaling: Encodable { var MaximumConcurrency: Int }
    struct Destinations: Encodable { var OnFailure: Destination }
    struct Destination: Encodable { var Destination: String? }
    struct Criteria: Encodable { var Filters: [Filter] }
    struct Filter: Encodable { var Pattern: String }
}

/// `ListEventSourceMappingsResponse`.
struct MappingList: Encodable {
    var EventSourceMappings: [MappingDocument]
    var NextMarker: String?
}
