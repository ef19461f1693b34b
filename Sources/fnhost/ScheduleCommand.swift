import ArgumentParser
import Foundation
import FunctionHostCore

/// `fnhost schedule next`: the next fire times of a schedule expression, as EventBridge computes them.
struct ScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule", abstract: "Work with schedule expressions.", subcommands: [Next.self])

    /// `fnhost schedule next EXPR [--count N] [--from ISO8601] [--timezone TZ]`.
    struct Next: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the next fire times of rate(...), cron(...) or at(...), one per line, in UTC ISO 8601.",
            discussion: "An invalid expression exits 2 naming the rule it breaks. A rate counts from --from.")

        @Argument(help: "The schedule expression, e.g. 'cron(0 12 ? * MON-FRI *)' or 'rate(5 minutes)'.")
        var expression: String

        @Option(help: "How many fire times to print.")
        var count = 5

        @Option(help: "Start after this time (ISO 8601, e.g. 2026-11-23T12:00:00Z); default now.")
        var from: String?

        @Option(help: "IANA time zone the cron fields are in (ScheduleExpressionTimezone); default UTC.")
        var timezone = "UTC"

        func run() throws {
            guard (1...10_000).contains(count) else { Self.exitWithStartupFailure("--count must be from 1 to 10000") }
            guard let zone = TimeZone(identifier: timezone) else {
                Self.exitWithStartupFailure("\(timezone) is not an IANA time zone (e.g. Europe/Berlin)")
            }
            var start = Date()
            if let from {
                guard let parsed = Self.parse(from) else {
                    Self.exitWithStartupFailure("--from \(from) is not an ISO 8601 time such as 2026-11-23T12:00:00Z")
                }
                start = parsed
            }
            let parsed: ScheduleExpression
            do {
                parsed = try ScheduleExpression(parsing: expression)
            } catch {
                Self.exitWithStartupFailure("invalid schedule expression \(expression): \(error.rule)")
            }
            for time in parsed.fireTimes(after: start, from: start, in: zone, count: count) {
                print(time.formatted(Date.ISO8601FormatStyle()))
            }
        }

        static func parse(_ text: String) -> Date? {
            (try? Date.ISO8601FormatStyle().parse(text))
                ?? (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text))
        }
    }
}
