import HTTPTypes

extension HTTPField.Name {
    static let amzInvocationType = Self("X-Amz-Invocation-Type")!
    static let amzLogType = Self("X-Amz-Log-Type")!
    static let amzClientContext = Self("X-Amz-Client-Context")!
    static let amznTraceID = Self("X-Amzn-Trace-Id")!
    static let amzTenantID = Self("X-Amz-Tenant-Id")!
    static let amznRequestID = Self("x-amzn-RequestId")!
    static let amznErrorType = Self("x-amzn-ErrorType")!
    static let amzExecutedVersion = Self("X-Amz-Executed-Version")!
    static let amzFunctionError = Self("X-Amz-Function-Error")!
    static let amzLogResult = Self("X-Amz-Log-Result")!
}
