import ArgumentParser
import Foundation
import FunctionHostSupervisor
import Glibc
import Logging

/// The `fnhost` command: runs AWS-Lambda-style functions from a SAM template, locally.
@main
struct FnHost: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fnhost",
        abstract: "Run AWS Lambda functions locally, without Docker.",
        discussion: "fnhost reads a SAM template, runs each function in worker processes that speak the Lambda Runtime API, and serves the Lambda Invoke API so the aws CLI, boto3 and every SDK work against it with --endpoint-url.",
        subcommands: [
            Serve.self, Invoke.self, Load.self, List.self, Validate.self, Doctor.self, Queues.self, ClockCommand.self,
            ScheduleCommand.self, GenerateEvent.self,
        ])

    /// Runs the command; a usage error (unknown flag, bad value) exits with status 2, as every
    /// other start-up failure does, rather than ArgumentParser's 64.
    static func main() async {
        // First, while the process is single-threaded: the workers' /tmp volumes then die with it.
        ScratchVolumes.isolateMounts()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
    }

    /// Process-global set-up, done once: logging, and SIGPIPE ignored (the launcher resets it for workers).
    /// `FNHOST_LOG_LEVEL` (`trace`, `debug`, `info`, ...) overrides the command's level.
    static func bootstrap(level: Logger.Level = .info) -> Logger {
        signal(SIGPIPE, SIG_IGN)
        let chosen = ProcessInfo.processInfo.environment["FNHOST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? level
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = chosen
            return handler
        }
        return Logger(label: "fnhost")
    }
}

extension ParsableCommand {
    /// Prints `fnhost: MESSAGE` on stderr and exits with status 2 (a usage, template or start-up error).
    static func exitWithStartupFailure(_ message: String) -> Never {
        FileHandle.standardError.write(Data("fnhost: \(message)\n".utf8))
        Foundation.exit(2)
    }
}
