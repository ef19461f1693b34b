import FunctionHostCore
import Foundation

/// The environment of a worker process, as Lambda builds it: the template's variables first,
/// then the platform's, which win.
struct WorkerEnvironment {
    var function: FunctionConfiguration
    var account: AccountContext
    var runtimeAPIPort: Int
    var taskRoot: String
    var interpreterDirectories: [String]
    /// The host's AWS credentials, passed on as the "execution role" (as `sam local` does).
    var credentials: [String: String]
    /// `AWS_LAMBDA_INITIALIZATION_TYPE`: `on-demand`, or `provisioned-concurrency` for provisioned workers.
    var initializationType = "on-demand"

    var variables: [String: String] {
        var environment = function.environment
        environment.merge(credentials) { _, platform in platform }
        let path = (["/var/lang/bin"] + interpreterDirectories + ["/usr/local/bin", "/usr/bin/", "/bin", "/opt/bin"])
        var platform: [String: String] = [
            "AWS_LAMBDA_FUNCTION_NAME": function.functionName,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": String(function.memorySize),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:\(runtimeAPIPort)",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/\(function.functionName)",
            "AWS_LAMBDA_LOG_STREAM_NAME": Self.logStreamName(),
            "AWS_LAMBDA_INITIALIZATION_TYPE": initializationType,
            "AWS_REGION": account.region,
            "AWS_DEFAULT_REGION": account.region,
            "LAMBDA_TASK_ROOT": taskRoot,
            "LAMBDA_RUNTIME_DIR": "/var/runtime",
            "_HANDLER": function.handler,
            "TZ": environment["TZ"] ?? ":UTC",
            "LANG": environment["LANG"] ?? "en_US.UTF-8",
            "PATH": environment["PATH"] ?? path.joined(separator: ":"),
            "LD_LIBRARY_PATH": environment["LD_LIBRARY_PATH"]
                ?? "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib",
            "AWS_XRAY_CONTEXT_MISSING": environment["AWS_XRAY_CONTEXT_MISSING"] ?? "LOG_ERROR",
        ]
        if let executionEnvironment = function.runtime.executionEnvironment {
            platform["AWS_EXECUTION_ENV"] = executionEnvironment
        }
        switch function.runtime {
        case .python:
            platform["PYTHONUNBUFFERED"] = "1"
        case .nodejs(let major):
            platform["NODE_PATH"] =
                "/opt/nodejs/node\(major)/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:\(taskRoot)"
        case .provided:
            break
        }
        environment.merge(platform) { _, platform in platform }
        return environment
    }

    /// `YYYY/MM/DD/[$LATEST]<32 lowercase hex>`, one per execution environment.
    static func logStreamName(date: Date = Date()) -> String {
        let day = LambdaLogFormat.timestamp(date).prefix(10).replacingOccurrences(of: "-", with: "/")
        let hex = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        return "\(day)/[$LATEST]\(hex)"
    }
}
