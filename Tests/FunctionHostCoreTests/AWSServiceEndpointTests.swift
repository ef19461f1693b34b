import Testing

@testable import FunctionHostCore

@Suite struct AWSServiceEndpointTests {
    @Test func serviceSettingsWinOverTheSharedOneAndTheRegionalDefault() {
        let environment = [
            "AWS_ENDPOINT_URL": "http://127.0.0.1:5000/", "AWS_ENDPOINT_URL_KINESIS": "http://127.0.0.1:4567",
        ]
        #expect(AWSServiceEndpoint.kinesis.url(region: "eu-west-1", environment: environment) == "http://127.0.0.1:4567")
        #expect(AWSServiceEndpoint.sqs.url(region: "eu-west-1", environment: environment) == "http://127.0.0.1:5000")
        #expect(AWSServiceEndpoint.sqs.url(region: "eu-west-1", environment: [:]) == "https://sqs.eu-west-1.amazonaws.com")
        #expect(
            AWSServiceEndpoint.dynamoDBStreams.url(region: "us-east-2", environment: ["AWS_ENDPOINT_URL_SQS": "x"])
                == "https://streams.dynamodb.us-east-2.amazonaws.com")
        #expect(AWSServiceEndpoint.dynamoDBStreams.signingName == "dynamodb")
        // Lease tables: AWS_ENDPOINT_URL_DYNAMODB is DynamoDB's own, not the streams endpoint's.
        #expect(
            AWSServiceEndpoint.dynamoDB.url(region: "us-east-2", environment: ["AWS_ENDPOINT_URL_DYNAMODB_STREAMS": "x"])
                == "https://dynamodb.us-east-2.amazonaws.com")
        #expect(AWSServiceEndpoint.dynamoDB.url(region: "us-east-2", environment: environment) == "http://127.0.0.1:5000")
    }
}
