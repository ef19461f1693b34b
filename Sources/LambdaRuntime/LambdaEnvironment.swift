/// The function's `AWS_LAMBDA_*` environment, read once at start-up.
struct LambdaEnvironment: Sendable {
    var functionName: String
    var functionVersion: String
    var memoryLimitInMB: Int

    /// Absent names fall back to the defaults of the Runtime Interface Emulator.
    ///
    /// - Throws: ``LambdaRuntimeError/Code/invalidEnvironment`` for a memory size that is not a positive integer.
    init(_ environment: [String: String]) throws(LambdaRuntimeError) {
        self.functionName = environment[RuntimeAPI.Environment.functionName] ?? "test_function"
        self.functionVersion = environment[RuntimeAPI.Environment.functionVersion] ?? "$LATEST"
        let memory = environment[RuntimeAPI.Environment.memorySize] ?? "3008"
        guard let megabytes = Int(memory), megabytes > 0 else {
            throw LambdaRuntimeError(
                code: .invalidEnvironment,
                message: "\(RuntimeAPI.Environment.memorySize) is not a positive integer: '\(memory)'")
        }
        self.memoryLimitInMB = megabytes
    }
}
