import ArgumentParser
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// `fnhost-bench echo`: the reference server. A Hummingbird 2 `Application` on the same stack and
/// event loop group as fnhost's Invoke API, with the Invoke route and nothing behind it: it
/// answers the request body with the same response head fnhost sends (same header names, a
/// constant request id of the same length), so both responses have the same size.
struct EchoServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo",
        abstract: "Serve a bare loopback HTTP echo of the Invoke route; prints its address when ready.")

    @Option(help: "Port to listen on (0 picks a free one).")
    var port: Int = 0

    func run() async throws {
        // The same process set-up as `fnhost serve`.
        signal(SIGPIPE, SIG_IGN)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let router = Router()
        router.post("/2015-03-31/functions/:name/invocations") { request, _ -> Response in
            var request = request
            let body = try await request.collectBody(upTo: 6 * 1024 * 1024)
            var headers = HTTPFields()
            headers[HTTPField.Name("x-amzn-RequestId")!] = "00000000-0000-0000-0000-000000000000"
            headers[.contentType] = "application/json"
            headers[HTTPField.Name("X-Amz-Executed-Version")!] = "$LATEST"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: body))
        }
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { channel in
                FileHandle.standardOutput.write(
                    Data("echo listening on http://127.0.0.1:\(channel.localAddress?.port ?? 0)\n".utf8))
            },
            logger: Logger(label: "fnhost-bench-echo"))
        try await app.runService()
    }
}
