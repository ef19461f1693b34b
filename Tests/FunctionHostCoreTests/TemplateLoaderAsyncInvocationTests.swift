import FunctionHostCore
import Testing

/// `EventInvokeConfig` and `DeadLetterQueue` in templates.
@Suite struct TemplateLoaderAsyncInvocationTests {
    /// `Fn` with `properties`, after a `Target` function that destinations can name.
    private func function(_ properties: String) throws -> FunctionConfiguration {
        try TemplateFixture().function(
            properties,
            after: """
                  Target:
                    Type: AWS::Serverless::Function
                    Properties: {CodeUri: src, Handler: a.b, Runtime: provided.al2023}
                """)
    }

    @Test func readsRetriesAgeDestinationsAndTheDeadLetterQueue() throws {
        let plain = try function("")
        #expect(plain.eventInvokeConfig == nil && plain.deadLetterQueueARN == nil)
        let configured = try function(
            """
                  EventInvokeConfig:
                    MaximumRetryAttempts: 0
                    MaximumEventAgeInSeconds: 120
                    DestinationConfig:
                      OnSuccess: {Type: Lambda, Destination: !GetAtt Target.Arn}
                      OnFailure: {Type: SQS, Destination: "arn:aws:sqs:us-east-1:123456789012:failed"}
                  DeadLetterQueue: {Type: SQS, TargetArn: "arn:aws:sqs:us-east-1:123456789012:dlq"}
            """)
        let config = try #require(configured.eventInvokeConfig)
        #expect(config.maximumRetryAttempts == 0)
        #expect(config.maximumEventAgeInSeconds == 120)
        #expect(config.onSuccess == "arn:aws:lambda:us-east-1:123456789012:function:Target")
        #expect(config.onFailure == "arn:aws:sqs:us-east-1:123456789012:failed")
        #expect(configured.deadLetterQueueARN == "arn:aws:sqs:us-east-1:123456789012:dlq")
        #expect(configured.deferredProperties.isEmpty)
    }

    @Test func rejectsImpossibleValuesNamingTheProperty() throws {
        for (properties, property) in [
            ("      EventInvokeConfig: {MaximumRetryAttempts: 3}", "EventInvokeConfig.MaximumRetryAttempts"),
            ("      EventInvokeConfig: {MaximumEventAgeInSeconds: 59}", "EventInvokeConfig.MaximumEventAgeInSeconds"),
            ("      EventInvokeConfig: {Retries: 1}", "EventInvokeConfig.Retries"),
            (
                "      EventInvokeConfig: {DestinationConfig: {OnSuccess: {Type: SNS, Destination: arn:aws:sns:x}}}",
                "EventInvokeConfig.DestinationConfig.OnSuccess.Type"
            ),
            (
                "      EventInvokeConfig: {DestinationConfig: {OnFailure: {Type: SQS}}}",
                "EventInvokeConfig.DestinationConfig.OnFailure.Destination"
            ),
            (
                "      EventInvokeConfig: {DestinationConfig: {OnFailure: {Type: SQS, Destination: !GetAtt Target.Arn}}}",
                "EventInvokeConfig.DestinationConfig.OnFailure.Destination"
            ),
            ("      DeadLetterQueue: {Type: SNS, TargetArn: arn:aws:sns:x}", "DeadLetterQueue.Type"),
            ("      DeadLetterQueue: {Type: SQS}", "DeadLetterQueue.TargetArn"),
        ] {
            let error = #expect(throws: TemplateError.self) { try function(properties) }
            #expect(error?.property == property, "\(properties)")
            #expect(error?.resource == "Fn", "\(properties)")
        }
    }
}
