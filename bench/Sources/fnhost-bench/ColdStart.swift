import ArgumentParser
import Foundation
import FunctionHostCore

/// `fnhost-bench cold`: forces cold starts in a running host and times them.
///
/// Each sample is two invokes of a function built from `bench/functions/c-exit`: `{"exit":true}`
/// makes its runtime exit mid-invoke, so the host discards that environment (the invoke answers
/// `Runtime.ExitError`); the next invoke, `{}` with `X-Amz-Log-Type: Tail`, therefore starts a
/// new worker. Its REPORT line carries the host's `Init Duration` (spawn to first `/next`).
///
/// Output (one JSON object): `client`, `samples`, `init_ms` (host-measured), `cold_ns`
/// (client-observed latency of the cold invoke), `exit_ns` (the discarding invoke).
struct ColdStart: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cold", abstract: "Force cold starts of an exit-on-demand function and time them.")

    @Option(help: "fnhost port on 127.0.0.1.")
    var port: Int

    @Option(help: "Function that exits on {\"exit\":true} (bench/template.yaml: CExit).")
    var function: String = "CExit"

    @Option(help: "Cold starts to force.")
    var count: Int = 200

    func run() throws {
        let client = try LoopbackHTTPClient(port: port)
        let path = "/2015-03-31/functions/\(function)/invocations"
        let exit = LoopbackHTTPClient.encode(post: path, port: port, body: #"{"exit":true}"#)
        let cold = LoopbackHTTPClient.encode(post: path, port: port, headers: [("X-Amz-Log-Type", "Tail")], body: "{}")
        let empty = Array("{}".utf8)

        var initMilliseconds: [Double] = []
        var coldLatencies: [UInt64] = []
        var exitLatencies: [UInt64] = []
        for _ in 0..<count {
            var start = monotonicNanoseconds()
            let exited = try client.roundTrip(exit)
            exitLatencies.append(monotonicNanoseconds() - start)
            guard exited.status == 200, client.header("X-Amz-Function-Error", in: exited) != nil else {
                let body = String(decoding: client.body(of: exited), as: UTF8.self)
                throw BenchError("the exit invoke did not fail as expected (\(exited.status)): \(body)")
            }

            start = monotonicNanoseconds()
            let response = try client.roundTrip(cold)
            coldLatencies.append(monotonicNanoseconds() - start)
            guard response.status == 200, client.bodyEquals(response, empty) else {
                let body = String(decoding: client.body(of: response), as: UTF8.self)
                throw BenchError("unexpected cold response \(response.status): \(body)")
            }
            guard let initDuration = LogTail.initDuration(client.header("X-Amz-Log-Result", in: response)) else {
                throw BenchError("the cold invoke's REPORT line has no Init Duration: it was not cold")
            }
            initMilliseconds.append(initDuration)
        }
        print(
            """
            {"client":\(JSONText.quote(LoopbackHTTPClient.description)),"samples":\(count),\
            "init_ms":[\(initMilliseconds.map { "\($0)" }.joined(separator: ","))],\
            "cold_ns":[\(coldLatencies.map(String.init).joined(separator: ","))],\
            "exit_ns":[\(exitLatencies.map(String.init).joined(separator: ","))]}
            """)
    }
}
