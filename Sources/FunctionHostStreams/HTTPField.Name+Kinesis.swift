import HTTPTypes

extension HTTPField.Name {
    /// `X-Amz-Target: Kinesis_20131202.<Operation>`.
    static let amzTarget = Self("X-Amz-Target")!
    static let amznRequestID = Self("x-amzn-RequestId")!
}
