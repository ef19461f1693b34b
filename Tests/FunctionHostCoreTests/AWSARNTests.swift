import FunctionHostCore
import Testing

/// Reading an ARN's region.
@Suite struct AWSARNTests {
    @Test func theRegionOfAnARN() {
        #expect(AWSARN.region(of: "arn:aws:sqs:eu-west-1:123456789012:jobs") == "eu-west-1")
        #expect(AWSARN.region(of: "arn:aws:kinesis:ap-south-2:123456789012:stream/clicks") == "ap-south-2")
        #expect(
            AWSARN.region(of: "arn:aws:dynamodb:us-east-2:123456789012:table/orders/stream/2026-11-29T00:00:00.000")
                == "us-east-2")
    }

    @Test func noRegionWhereThereIsNone() {
        #expect(AWSARN.region(of: "arn:aws:iam::123456789012:role/x") == nil)
        #expect(AWSARN.region(of: "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs") == nil)
        #expect(AWSARN.region(of: "arn:aws:sqs") == nil)
        #expect(AWSARN.region(of: "") == nil)
    }
}
