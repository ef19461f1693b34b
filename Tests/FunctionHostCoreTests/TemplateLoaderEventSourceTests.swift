import Foundation
import Testing

@testable import FunctionHostCore

@Suite struct TemplateLoaderEventSourceTests {
    static let queues = """
          Jobs:
            Type: AWS::SQS::Queue
            Properties:
              VisibilityTimeout: 60
          Ordered:
            Type: AWS::SQS::Queue
            Properties:
              FifoQueue: true
              VisibilityTimeout: 60
        """

    func mappings(_ events: String, extra: String = "") throws(TemplateError) -> [EventSourceMapping] {
        let fixture = try? TemplateFixture()
        guard let fixture else { throw TemplateError(file: "", message: "no fixture") }
        return try fixture.load(
            """
            Resources:
            \(Self.queues)
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: src
                  Handler: a.b
                  Runtime: provided.al2023
                  Timeout: 30
                  Events:
            \(events)
            \(extra)
            """
        ).eventSourceMappings
    }

    func failure(_ events: String, extra: String = "") -> TemplateError? {
        do {
            _ = try mappings(events, extra: extra)
            return nil
        } catch {
            return error
        }
    }

    @Test func sqsEventsLoadWithEveryProperty() throws {
        let loaded = try mappings(
            """
                    Work:
                      Type: SQS
                      Properties:
                        Queue: !GetAtt Jobs.Arn
                        BatchSize: 500
                        MaximumBatchingWindowInSeconds: 5
                        FunctionResponseTypes: [ReportBatchItemFailures]
                        Enabled: false
                        ScalingConfig:
                          MaximumConcurrency: 4
                        FilterCriteria:
                          Filters:
                            - Pattern: '{"body": {"kind": ["order"]}}'
            """)
        let mapping = try #require(loaded.first)
        #expect(mapping.functionName == "Fn")
        #expect(mapping.source == .sqs(queueARN: "arn:aws:sqs:us-east-1:123456789012:Jobs"))
        #expect(mapping.batchSize == 500)
        #expect(mapping.maximumBatchingWindowInSeconds == 5)
        #expect(mapping.reportBatchItemFailures)
        #expect(!mapping.enabled)
        #expect(mapping.maximumConcurrency == 4)
        #expect(mapping.filters.map(\.text) == [#"{"body": {"kind": ["order"]}}"#])
        // Stable across loads.
        #expect(try mappings(
            """
                    Work:
                      Type: SQS
                      Properties:
                        Queue: !GetAtt Jobs.Arn
            """
        ).first?.uuid == mapping.uuid)
    }

    @Test func mappingResourcesNameTheFunctionByRefOrArnAndTheQueueByUrl() throws {
        let loaded = try mappings(
            """
                    Other:
                      Type: Schedule
                      Properties:
                        Schedule: rate(1 hour)
            """,
            extra: """
              ByRef:
                Type: AWS::Lambda::EventSourceMapping
                Properties:
                  FunctionName: !Ref Fn
                  EventSourceArn: !GetAtt Ordered.Arn
              ByArn:
                Type: AWS::Lambda::EventSourceMapping
                Properties:
                  FunctionName: !GetAtt Fn.Arn
                  EventSourceArn: arn:aws:sqs:us-east-1:123456789012:Jobs
            """)
        #expect(loaded.map(\.logicalID) == ["ByRef", "ByArn"])
        #expect(loaded.map(\.functionName) == ["Fn", "Fn"])
        #expect(loaded[0].source.arn.hasSuffix(":Ordered.fifo"))
    }

    @Test(arguments: [
        ("BatchSize: 0", "Events.Work.Properties.BatchSize"),
        ("BatchSize: 11", "Events.Work.Properties.BatchSize"),
        ("BatchSize: 10001\n            MaximumBatchingWindowInSeconds: 1", "Events.Work.Properties.BatchSize"),
        ("MaximumBatchingWindowInSeconds: 301", "Events.Work.Properties.MaximumBatchingWindowInSeconds"),
        ("StartingPosition: LATEST", "Events.Work.Properties.StartingPosition"),
        ("ScalingConfig: {MaximumConcurrency: 1}", "Events.Work.Properties.ScalingConfig.MaximumConcurrency"),
        ("FunctionResponseTypes: [Everything]", "Events.Work.Properties.FunctionResponseTypes"),
        ("Enabled: maybe", "Events.Work.Properties.Enabled"),
        ("FilterCriteria: {Filters: [{Pattern: 'nope'}]}", "Events.Work.Properties.FilterCriteria.Filters[0].Pattern"),
    ])
    func badPropertiesNameTheProperty(line: String, property: String) {
        let error = failure(
            """
                    Work:
                      Type: SQS
                      Properties:
                        Queue: !GetAtt Jobs.Arn
                        \(line)
            """)
        #expect(error?.resource == "Fn")
        #expect(error?.property == property, "\(String(describing: error))")
    }

    @Test func fifoQueuesRefuseWindowsAndLargeBatches() {
        let window = failure(
            """
                    Work:
                      Type: SQS
                      Properties:
                        Queue: !GetAtt Ordered.Arn
                        MaximumBatchingWindowInSeconds: 2
            """)
        #expect(window?.property == "Events.Work.Properties.MaximumBatchingWindowInSeconds")
        #expect(window?.message.contains("FIFO") == true)
    }

    @Test func queueURLsOutsideTheTemplateAndShortVisibilityAreRefused() {
        // A queue the template does not define is external, and named by its ARN (tested in TemplateLoaderStreamTests).
        let unknown = failure(
            """
                    Work:
                      Type: SQS
                      Properties:
                        Queue: http://127.0.0.1:4000/123456789012/elsewhere
            """)
        #expect(unknown?.property == "Events.Work.Properties.Queue")
        let short = failure(
            """
                    Work:
                      Type: SQS
                      Properties:
                        Queue: !GetAtt Short.Arn
            """,
            extra: """
              Short:
                Type: AWS::SQS::Queue
                Properties:
                  VisibilityTimeout: 10
            """)
        #expect(short?.message == "Queue visibility timeout: 10 seconds is less than Function timeout: 30 seconds")
    }
}
