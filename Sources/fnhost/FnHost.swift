import ArgumentParser
import Foundation
import Glibc
import Logging

/// The `fnhost` command: runs AWS-Lambda-style functions from a SAM template, locally.
@main
struct FnHost: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fnhost",
        abstract: "Run AWS Lambda functions locally, without Docker.",
        discussion: "fnhost reads a SAM template, runs each function in worker processes that speak the Lambda Runtime API, and serves the Lambda Invoke API so the aws CLI, boto3 and every SDK work against it with --endpoint-url.",
        subcommands: [Serve.self, Invoke.self, List.self, Validate.self])

    /// Process-global set-up, done once: logging, and SIGPIPE ignored (the launcher resets it for workers).
    static func bootstrap(level: Logger.Level = .info) -> Logger {
        signal(SIGPIPE, SIG_IGN)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "fnhost")
    }
}

/// Exit status 2 with a one-line message: a usage, template or start-up error.
struct StartupFailure: Error, CustomStringConvertible {
    var description: String
    init(_ error: any Error) { description = "\(error)" }
}

extension ParsableCommand {
    /// Prints `fnhost: MESSAGE` on stderr and exits with status 2.
    static func exitWithStartupFailure(_ error: any Error) -> Never {
        FileHandle.standardError.write(Data("fnhost: \(error)\n".utf8))
        Foundation.exit(2)
    }
}
