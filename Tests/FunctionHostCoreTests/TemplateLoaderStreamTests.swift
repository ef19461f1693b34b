import Foundation
import Testing

@testable import FunctionHostCore

@Suite struct TemplateLoaderStreamTests {
    func load(_ yaml: String) throws -> TemplateLoader.Result {
        try TemplateLoader().load(try TemplateValue.parse(yaml: yaml), file: "t.yaml", baseDirectory: "/tmp")
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
