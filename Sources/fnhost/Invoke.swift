import ArgumentParser
import AsyncHTTPClient
import Foundation
import FunctionHost
import FunctionHostCore
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// `fnhost invoke`: one invocation, locally or against a running host.
struct Invoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Invoke a function once and print its response.",
        discussion: "Prints the response payload on stdout and logs on stderr. Exits 0 on success, 1 on a function error, 2 on a usage or template error.")

    @Argument(help: "The function's name or logical id.")
    var name: String

    @Option(name: .shortAndLong, help: ArgumentHelp("The event JSON: a file, or - for stdin.", valueName: "FILE|-"))
    var event: String?

    @Option(help: "Invoke through a running host at this URL instead of running the function here.")
    var endpoint: String?

    @Option(help: ArgumentHelp(
        "Run the function under its runtime's debugger on 127.0.0.1:PORT (node --inspect-brk, debugpy); waits for it to attach.",
        valueName: "PORT"))
    var debugPort: Int?

    @OptionGroup var options: TemplateOptions

    func validate() throws {
        if let debugPort, !(1...65535).contains(debugPort) { throw ValidationError("--debug-port must be a port number") }
        if debugPort != nil, endpoint != nil { throw ValidationError("--debug-port runs the function here; it cannot go with --endpoint") }
    }

    func run() async throws {
        let logger = FnHost.bootstrap(level: .warning)
        let payload: ByteBuffer
        do {
            payload = try readEvent()
        } catch {
            Self.exitWithStartupFailure("\(error)")
        }
        let result: (payload: ByteBuffer, failed: Bool)
        if let endpoint {
            result = try await invokeRemotely(endpoint: endpoint, payload: payload)
        } else {
            do {
                var configuration = try options.hostConfiguration(console: 2)
                configuration.debug = debugPort.map { .init(function: name, port: $0) }
                let host = try FunctionHost(configuration: configuration)
                for warning in host.warnings { logger.warning("\(warning)") }
                let outcome = try await host.invokeOnce(name, payload: payload, logger: logger)
                result = (outcome.payload, outcome.functionError != nil)
            } catch let error as TemplateError {
                Self.exitWithStartupFailure("\(error)")
            } catch let error as FunctionHostError {
                Self.exitWithStartupFailure("\(error)")
            }
        }
        FileHandle.standardOutput.write(Data(result.payload.readableBytesView) + Data("\n".utf8))
        if result.failed { throw ExitCode(1) }
    }

    private func readEvent() throws -> ByteBuffer {
        guard let event else { return ByteBuffer(string: "{}") }
        // FileHandle, unlike Data(contentsOf:), also reads pipes such as `--event <(echo '{}')`.
        guard let file = event == "-" ? FileHandle.standardInput : FileHandle(forReadingAtPath: event) else {
            throw ValidationError("cannot read the event file \(event)")
        }
        return ByteBuffer(data: file.readDataToEndOfFile())
    }

    private func invokeRemotely(endpoint: String, payload: ByteBuffer) async throws -> (ByteBuffer, Bool) {
        let base = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        let path = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-_."))) ?? name
        var request = HTTPClientRequest(url: "\(base)/2015-03-31/functions/\(path)/invocations")
        request.method = .POST
        request.body = .bytes(payload)
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            // AsyncHTTPClient retries refused connections until the request's deadline, which must be
            // long for a slow function: so first check, briefly, that a host answers at all.
            let probe = HTTPClientRequest(url: "\(base)/2015-03-31/functions/")
            _ = try await HTTPClient.shared.execute(probe, timeout: .seconds(5))
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(960))
            body = try await response.body.collect(upTo: 7 * 1024 * 1024)
        } catch {
            Self.exitWithStartupFailure("cannot reach \(endpoint): \(error)")
        }
        guard response.status == .ok else {
            let code = response.headers.first(name: "x-amzn-ErrorType") ?? "HTTP \(response.status.code)"
            Self.exitWithStartupFailure("\(code): \(String(buffer: body))")
        }
        return (body, response.headers.first(name: "X-Amz-Function-Error") != nil)
    }
}
