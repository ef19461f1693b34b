import Foundation
import Testing

@testable import FunctionHostCore

@Suite struct TemplateLoaderStreamTests {
    /// Function code directories resolve against the fixtures folder.
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/functions").standardizedFileURL.path

    func load(_ yaml: String) throws -> TemplateLoader.Result {
        try TemplateLoader().load(try TemplateValue.parse(yaml: yaml), file: "t.yaml", baseDirectory: Self.fixtures)
    }

    /// A function with one Kinesis event of `properties` (YAML flow mapping entries) on stream S.
    func mapping(_ properties: String) throws -> TemplateLoader.Result {
        try load(
            """
            Resources:
              S:
                Type: AWS::Kinesis::Stream
              Failures:
                Type: AWS::SQS::Queue
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: stream-consumer/
                  Handler: app.handler
                  Runtime: python3.12
                  Events:
                    K: {Type: Kinesis, Properties: {Stream: !GetAtt S.Arn, \(properties)}}
            """)
    }

    @Test func kinesisEventsBecomeStreamMappingsWithLambdasDefaults() throws {
        let result = try mapping(
            "StartingPosition: AT_TIMESTAMP, StartingPositionTimestamp: 1700000000.5, BisectBatchOnFunctionError: true, DestinationConfig: {OnFailure: {Type: SQS, Destination: !GetAtt Failures.Arn}}"
        )
        let mapping = try #require(result.eventSourceMappings.first)
        #expect(mapping.source == .kinesis(streamARN: "arn:aws:kinesis:us-east-1:123456789012:stream/S"))
        #expect(mapping.batchSize == 100 && mapping.maximumBatchingWindowInSeconds == 0)
        let stream = try #require(mapping.stream)
        #expect(stream.startingPosition == .atTimestamp(1_700_000_000_500))
        #expect(stream.maximumRetryAttempts == -1 && stream.maximumRecordAgeInSeconds == -1)
        #expect(stream.bisectBatchOnFunctionError && stream.parallelizationFactor == 1)
        #expect(stream.onFailureDestination == "arn:aws:sqs:us-east-1:123456789012:Failures")
        #expect(result.warnings.isEmpty, "\(result.warnings)")
    }

    @Test func filterCriteriaOnAStreamAreRead() throws {
        let result = try mapping(
            #"StartingPosition: LATEST, FilterCriteria: {Filters: [{Pattern: '{"data": {"kind": ["keep"]}}'}]}"#)
        let mapping = try #require(result.eventSourceMappings.first)
        #expect(mapping.filters.map(\.text) == [#"{"data": {"kind": ["keep"]}}"#])
        #expect(result.warnings.isEmpty, "\(result.warnings)")
        #expect(throws: TemplateError.self) {
            try self.mapping(#"StartingPosition: LATEST, FilterCriteria: {Filters: [{Pattern: 'nope'}]}"#)
        }
        let six = Array(repeating: #"{Pattern: '{"data": {"n": [1]}}'}"#, count: 6).joined(separator: ", ")
        #expect(throws: TemplateError.self) { try self.mapping("StartingPosition: LATEST, FilterCriteria: {Filters: [\(six)]}") }
    }

    @Test func sourcesTheTemplateDoesNotDefineAreExternal() throws {
        let kinesis = try mapping("StartingPosition: LATEST").eventSourceMappings[0]
        #expect(!kinesis.external)
        let result = try load(
            """
            Resources:
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: stream-consumer/
                  Handler: app.handler
                  Runtime: python3.12
                  Events:
                    Q: {Type: SQS, Properties: {Queue: "arn:aws:sqs:eu-west-1:111111111111:jobs"}}
                    K: {Type: Kinesis, Properties: {Stream: "arn:aws:kinesis:eu-west-1:111111111111:stream/s", StartingPosition: LATEST}}
                    D: {Type: DynamoDB, Properties: {Stream: "arn:aws:dynamodb:eu-west-1:111111111111:table/T/stream/2024", StartingPosition: TRIM_HORIZON}}
            """)
        #expect(result.eventSourceMappings.map(\.external) == [true, true, true])
        #expect(result.eventSourceMappings.map(\.source) == [
            .sqs(queueARN: "arn:aws:sqs:eu-west-1:111111111111:jobs"),
            .kinesis(streamARN: "arn:aws:kinesis:eu-west-1:111111111111:stream/s"),
            .dynamoDBStream(streamARN: "arn:aws:dynamodb:eu-west-1:111111111111:table/T/stream/2024"),
        ])
    }

    @Test(arguments: [
        ("StartingPosition: LATEST, BatchSize: 10001", "BatchSize", "must be from 1 to 10000 for a stream, got 10001"),
        ("StartingPosition: LATEST, ParallelizationFactor: 11", "ParallelizationFactor", "must be from 1 to 10, got 11"),
        ("BatchSize: 10", "StartingPosition", "is missing (TRIM_HORIZON, LATEST or AT_TIMESTAMP)"),
        ("StartingPosition: AT_TIMESTAMP", "StartingPositionTimestamp", "is missing (AT_TIMESTAMP needs it, in epoch seconds)"),
        ("StartingPosition: NOW", "StartingPosition", "must be TRIM_HORIZON, LATEST or AT_TIMESTAMP, got NOW"),
        ("StartingPosition: LATEST, MaximumRetryAttempts: -2", "MaximumRetryAttempts",
         "must be -1 (until the records expire) or from 0 to 10000, got -2"),
        ("StartingPosition: LATEST, MaximumRecordAgeInSeconds: 59", "MaximumRecordAgeInSeconds",
         "must be -1 (no limit) or from 60 to 604800, got 59"),
        ("StartingPosition: LATEST, DestinationConfig: {OnFailure: {Destination: arn:aws:sqs:us-east-1:123456789012:nope}}",
         "DestinationConfig.OnFailure.Destination",
         "arn:aws:sqs:us-east-1:123456789012:nope is not a queue of this template (fnhost sends OnFailure records to its embedded SQS queues)"),
    ])
    func badStreamMappingPropertiesNameFileResourceAndProperty(properties: String, property: String, message: String) {
        #expect(
            throws: TemplateError(
                file: "t.yaml", resource: "Fn", property: "Events.K.Properties." + property, message: message)
        ) { try mapping(properties) }
    }

    @Test func streamsLoadWithDefaultsModesAndReferences() throws {
        let result = try load(
            """
            Resources:
              Clicks:
                Type: AWS::Kinesis::Stream
                Properties:
                  ShardCount: 3
                  RetentionPeriodHours: 48
              Named:
                Type: AWS::Kinesis::Stream
                Properties:
                  Name: !Sub "${AWS::Region}-orders"
                  StreamModeDetails: {StreamMode: ON_DEMAND}
            Outputs:
              ClicksArn: {Value: !GetAtt Clicks.Arn}
              NamedRef: {Value: !Ref Named}
            """)
        #expect(result.streams.map(\.name) == ["Clicks", "us-east-1-orders"])
        #expect(result.streams[0].shardCount == 3 && result.streams[0].retentionPeriodHours == 48)
        #expect(result.streams[0].mode == .provisioned)
        #expect(result.streams[1].mode == .onDemand && result.streams[1].shardCount == 4)
        #expect(result.outputs["ClicksArn"] == "arn:aws:kinesis:us-east-1:123456789012:stream/Clicks")
        #expect(result.outputs["NamedRef"] == "us-east-1-orders")
        #expect(result.warnings.isEmpty)
    }

    @Test func badPropertiesNameFileResourceAndProperty() {
        #expect(
            throws: TemplateError(
                file: "t.yaml", resource: "S", property: "ShardCount", message: "must be an integer from 1 to 1000, got 0")
        ) {
            try load("Resources:\n  S:\n    Type: AWS::Kinesis::Stream\n    Properties:\n      ShardCount: 0\n")
        }
        #expect(
            throws: TemplateError(
                file: "t.yaml", resource: "S", property: "StreamModeDetails.StreamMode",
                message: "must be PROVISIONED or ON_DEMAND, got FAST")
        ) {
            try load(
                "Resources:\n  S:\n    Type: AWS::Kinesis::Stream\n    Properties:\n      StreamModeDetails: {StreamMode: FAST}\n")
        }
        #expect(
            throws: TemplateError(
                file: "t.yaml", resource: "S", property: "RetentionPeriodHours",
                message: "must be an integer from 24 to 8760, got 1")
        ) {
            try load("Resources:\n  S:\n    Type: AWS::Kinesis::Stream\n    Properties:\n      RetentionPeriodHours: 1\n")
        }
        #expect(throws: TemplateError.self) {
            try load("Resources:\n  S:\n    Type: AWS::Kinesis::Stream\n    Properties:\n      Name: bad/name\n")
        }
    }
}
