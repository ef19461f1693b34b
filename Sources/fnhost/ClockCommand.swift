import ArgumentParser
import AsyncHTTPClient
import Foundation
import FunctionHostCore
import NIOCore
import NIOHTTP1

/// `fnhost clock show|advance`: reads or moves the host clock of a running host through its
/// control route (`GET /_fnhost/clock`, `POST /_fnhost/clock/advance?by=DURATION`).
struct ClockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clock",
        abstract: "Show or advance the host clock of a running host (`fnhost serve --virtual-clock`).",
        subcommands: [Show.self, Advance.self])

    /// Where the host listens.
    struct EndpointOptions: ParsableArguments {
        @Option(help: "The running host's URL.")
        var endpoint: String = "http://127.0.0.1:3001"

        var base: String { endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint }
    }

    /// `fnhost clock show`.
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the host clock: now (UTC ISO 8601), whether it is virtual, and the next deadline.")

        @OptionGroup var endpoint: EndpointOptions

        func run() async throws {
            try await ClockCommand.exchange(HTTPClientRequest(url: endpoint.base + "/_fnhost/clock"), endpoint: endpoint.endpoint)
        }
    }

    /// `fnhost clock advance DURATION`.
    struct Advance: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a virtual host clock forward; what falls due fires in order.",
            discussion: """
                DURATION is digits and a unit (ms, s, m, h, d), or several run together: 90s, 15m, 6h, 1h30m. \
                Returns once what fell due has been handed over (schedule fires, async retries, SQS mapping \
                batches), waiting at most \(VirtualClock.settleLimit.components.seconds) s of real time per step.
                """)

        @Argument(help: "How far to move the clock.")
        var duration: String

        @OptionGroup var endpoint: EndpointOptions

        func validate() throws {
            guard ClockDuration(parsing: duration) != nil else {
                throw ValidationError("'\(duration)' is not a duration such as 90s, 15m, 6h or 1h30m")
            }
        }

        func run() async throws {
            var request = HTTPClientRequest(url: endpoint.base + "/_fnhost/clock/advance?by=\(duration)")
            request.method = .POST
            try await ClockCommand.exchange(request, endpoint: endpoint.endpoint)
        }
    }

    /// Sends `request`, prints the JSON answer; a host that cannot be reached or refuses exits 2.
    static func exchange(_ request: HTTPClientRequest, endpoint: String) async throws {
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(300))
            body = try await response.body.collect(upTo: 1024 * 1024)
        } catch {
            exitWithStartupFailure("cannot reach \(endpoint): \(error)")
        }
        guard response.status == .ok else {
            let code = response.headers.first(name: "x-amzn-ErrorType") ?? "HTTP \(response.status.code)"
            exitWithStartupFailure("\(code): \(String(buffer: body))")
        }
        print(String(buffer: body))
    }
}
