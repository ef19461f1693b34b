import FunctionHostCore

/// `FunctionConfiguration` as botocore's model describes it (the shape of `GetFunctionConfiguration`).
struct FunctionConfigurationDocument: Encodable {
    struct Variables: Encodable { var Variables: [String: String] }
    struct Tracing: Encodable { var Mode = "PassThrough" }
    struct Storage: Encodable { var Size = 512 }
    struct Logging: Encodable {
        var LogFormat = "Text"
        var LogGroup: String
    }
    struct SnapStartSettings: Encodable {
        var ApplyOn = "None"
        var OptimizationStatus = "Off"
    }

    var FunctionName: String
    var FunctionArn: String
    var Runtime: String
    var Role: String
    var Handler: String
    var CodeSize: Int
    var Description: String
    var Timeout: Int
    var MemorySize: Int
    var LastModified: String
    var CodeSha256: String
    var Version = "$LATEST"
    var Environment: Variables?
    var TracingConfig = Tracing()
    var RevisionId: String
    /// Absent from `ListFunctions` entries, as AWS sends them.
    var State: String? = "Active"
    var LastUpdateStatus: String? = "Successful"
    var PackageType = "Zip"
    /// The machine's: functions run on this host's CPU.
    #if arch(arm64)
        var Architectures = ["arm64"]
    #else
        var Architectures = ["x86_64"]
    #endif
    var EphemeralStorage = Storage()
    var LoggingConfig: Logging
    var SnapStart = SnapStartSettings()

    init(_ entry: FunctionCatalog.Entry, account: AccountContext) {
        let function = entry.configuration
        FunctionName = function.functionName
        FunctionArn = account.functionARN(function.functionName)
        Runtime = function.runtime.identifier
        Role = "arn:aws:iam::\(account.accountID):role/fnhost-local"
        Handler = function.handler
        CodeSize = entry.codeSize
        Description = function.description
        Timeout = function.timeout
        MemorySize = function.memorySize
        LastModified = entry.lastModified
        CodeSha256 = entry.codeSha256
        Environment = function.environment.isEmpty ? nil : Variables(Variables: function.environment)
        RevisionId = entry.revisionID
        LoggingConfig = Logging(LogGroup: "/aws/lambda/\(function.functionName)")
    }
}
