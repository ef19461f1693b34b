import Foundation
import Testing

@testable import FunctionHostCore

@Suite struct TemplateLoaderQueueTests {
    /// Function code directories resolve against the fixtures folder.
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/functions").standardizedFileURL.path

    func load(_ yaml: String) throws -> TemplateLoader.Result {
        var loader = TemplateLoader()
        loader.queueEndpoint = "http://127.0.0.1:4000"
        return try loader.load(try TemplateValue.parse(yaml: yaml), file: "t.yaml", baseDirectory: Self.fixtures)
    }

    @Test func queuesLoadWithDefaultsAndRedrive() throws {
        let result = try load(
            """
            Resources:
              Jobs:
                Type: AWS::SQS::Queue
                Properties:
                  VisibilityTimeout: 5
                  RedrivePolicy:
                    deadLetterTargetArn: !GetAtt Dead.Arn
                    maxReceiveCount: 3
              Dead:
                Type: AWS::SQS::Queue
                Properties:
                  QueueName: dead-letters
              Ordered:
                Type: AWS::SQS::Queue
                Properties:
                  FifoQueue: true
                  ContentBasedDeduplication: true
            """)
        #expect(result.queues.map(\.name) == ["Jobs", "dead-letters", "Ordered.fifo"])
        #expect(result.queues[0].visibilityTimeout == 5)
        #expect(result.queues[0].messageRetentionPeriod == 345_600)
        #expect(
            result.queues[0].redrive
                == .init(deadLetterTargetARN: "arn:aws:sqs:us-east-1:123456789012:dead-letters", maxReceiveCount: 3))
        #expect(result.queues[2].fifo && result.queues[2].contentBasedDeduplication)
        #expect(result.warnings.isEmpty)
    }

    @Test func badPropertiesNameFileResourceAndProperty() {
        #expect(
            throws: TemplateError(
                file: "t.yaml", resource: "Q", property: "VisibilityTimeout",
                message: "must be an integer from 0 to 43200, got 50000")
        ) {
            try load("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      VisibilityTimeout: 50000\n")
        }
        #expect(
            throws: TemplateError(
                file: "t.yaml", resource: "Q", property: "RedrivePolicy.deadLetterTargetArn",
                message: "arn:aws:sqs:us-east-1:123456789012:nowhere is not a queue of this template")
        ) {
            try load(
                """
                Resources:
                  Q:
                    Type: AWS::SQS::Queue
                    Properties:
                      RedrivePolicy: {deadLetterTargetArn: "arn:aws:sqs:us-east-1:123456789012:nowhere", maxReceiveCount: 2}
                """)
        }
        #expect(throws: TemplateError.self) {
            try load("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: bad.name\n")
        }
    }

    @Test func refAndGetAttResolveToQueueURLAndARN() throws {
        let result = try load(
            """
            Resources:
              Jobs:
                Type: AWS::SQS::Queue
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: recorder
                  Handler: app.handler
                  Runtime: python3.12
                  Environment:
                    Variables:
                      URL: !Ref Jobs
                      ARN: !GetAtt Jobs.Arn
                      NAME: !GetAtt Jobs.QueueName
                      SAME_URL: !GetAtt Jobs.QueueUrl
                  DeadLetterQueue:
                    Type: SQS
                    TargetArn: !GetAtt Jobs.Arn
            """)
        let environment = try #require(result.functions.first).environment
        #expect(environment["URL"] == "http://127.0.0.1:4000/123456789012/Jobs")
        #expect(environment["SAME_URL"] == environment["URL"])
        #expect(environment["ARN"] == "arn:aws:sqs:us-east-1:123456789012:Jobs")
        #expect(environment["NAME"] == "Jobs")
    }
}
