import ArgumentParser
import Foundation
import FunctionHostCore

/// `fnhost-bench warm`: sequential invokes over one keep-alive connection; prints every latency.
///
/// Output (one JSON object): `client`, `requests`, `warmup`, `wall_ns` (the timed loop),
/// `response_bytes`, `response_head` (one sample), `latencies_ns` (in order), and with
/// `--tail-first` `first` (the very first invoke, cold on a fresh host: its latency and the
/// host's `Init Duration`).
struct WarmLatency: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warm", abstract: "Time sequential invokes on one keep-alive connection.")

    @Option(help: "Server port on 127.0.0.1.")
    var port: Int

    @Option(help: "Request path.")
    var path: String = "/2015-03-31/functions/CNoop/invocations"

    @Option(help: "Request body; the response body must equal it.")
    var body: String = "{}"

    @Option(help: "Untimed invokes before the timed ones.")
    var warmup: Int = 200

    @Option(help: "Timed invokes.")
    var count: Int = 10_000

    @Flag(help: "Send the first invoke with X-Amz-Log-Type: Tail and report its Init Duration.")
    var tailFirst = false

    func validate() throws {
        guard count > 0, warmup >= 0 else { throw ValidationError("--count must be > 0 and --warmup >= 0") }
    }

    func run() throws {
        let client = try LoopbackHTTPClient(port: port)
        let request = LoopbackHTTPClient.encode(post: path, port: port, body: body)
        let expected = Array(body.utf8)

        var first = "null"
        if tailFirst {
            let tail = LoopbackHTTPClient.encode(
                post: path, port: port, headers: [("X-Amz-Log-Type", "Tail")], body: body)
            let start = monotonicNanoseconds()
            let response = try client.roundTrip(tail)
            let latency = monotonicNanoseconds() - start
            try check(client, response, expected)
            let initMilliseconds = LogTail.initDuration(client.header("X-Amz-Log-Result", in: response))
            first = #"{"latency_ns":\#(latency),"init_ms":\#(initMilliseconds.map { "\($0)" } ?? "null")}"#
        }
        for _ in 0..<warmup {
            try check(client, try client.roundTrip(request), expected)
        }

        var latencies = [UInt64](repeating: 0, count: count)
        var last = LoopbackHTTPClient.Response(status: 0, headLength: 0, bodyLength: 0)
        let loopStart = monotonicNanoseconds()
        for index in 0..<count {
            let start = monotonicNanoseconds()
            last = try client.roundTrip(request)
            latencies[index] = monotonicNanoseconds() - start
            if last.status != 200 || !client.bodyEquals(last, expected) { try check(client, last, expected) }
        }
        let wall = monotonicNanoseconds() - loopStart

        print(
            """
            {"client":\(JSONText.quote(LoopbackHTTPClient.description)),"requests":\(count),"warmup":\(warmup),\
            "wall_ns":\(wall),"response_bytes":\(last.totalLength),\
            "response_head":\(JSONText.quote(client.headText(of: last))),"first":\(first),\
            "latencies_ns":[\(latencies.map(String.init).joined(separator: ","))]}
            """)
    }

    private func check(
        _ client: LoopbackHTTPClient, _ response: LoopbackHTTPClient.Response, _ expected: [UInt8]
    ) throws {
        guard response.status == 200, client.bodyEquals(response, expected) else {
            let body = String(decoding: client.body(of: response), as: UTF8.self)
            throw BenchError("unexpected response \(response.status): \(body)")
        }
    }
}
