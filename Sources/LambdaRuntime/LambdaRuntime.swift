import Foundation
import NIOCore

/// The entry point of a Swift function: serves invocations from the Runtime API until the process ends.
///
/// Call one `run` once, from `main.swift`. It never returns: when the Runtime API goes away or answers nonsense it
/// prints the reason to stderr and exits with status 1. A failure before the first `/next` is first posted to
/// `/runtime/init/error` (unless `AWS_LAMBDA_RUNTIME_API` itself is missing, which leaves nobody to tell).
public enum LambdaRuntime {
    /// Serves invocations with a handler that takes and returns raw bytes.
    ///
    /// A thrown error is posted to `/error` as `{"errorMessage": "\(error)", "errorType": <its Swift type>, …}`.
    public static func run(
        handler: @Sendable (ByteBuffer, LambdaContext) async throws -> ByteBuffer
    ) async -> Never {
        await run(contentType: nil, handler: handler)
    }

    /// Both public `run`s end here; `contentType` goes on every `/response`.
    static func run(
        contentType: String?,
        handler: (ByteBuffer, LambdaContext) async throws -> ByteBuffer
    ) async -> Never {
        lineBufferStandardOutput()

        let processEnvironment = ProcessInfo.processInfo.environment
        guard let address = processEnvironment[RuntimeAPI.Environment.runtimeAPI], !address.isEmpty else {
            fail(
                LambdaRuntimeError(
                    code: .missingRuntimeAPIAddress, message: "\(RuntimeAPI.Environment.runtimeAPI) is not set"))
        }
        let failure = await RuntimeAPIClient.withClient(address: address) { client -> LambdaRuntimeError in
            let environment: LambdaEnvironment
            do throws(LambdaRuntimeError) {
                environment = try LambdaEnvironment(processEnvironment)
            } catch {
                await reportInitError(error, to: client)
                return error
            }
            do throws(LambdaRuntimeError) {
                try await runLoop(client: client, environment: environment, contentType: contentType, handler: handler)
            } catch {
                return error
            }
        }
        fail(failure)
    }

    /// Fetches, handles and answers invocations one at a time; returns only by throwing.
    static func runLoop(
        client: some RuntimeAPIClientProtocol,
        environment: LambdaEnvironment,
        contentType: String?,
        handler: (ByteBuffer, LambdaContext) async throws -> ByteBuffer
    ) async throws(LambdaRuntimeError) -> Never {
        while true {
            let invocation = try await client.nextInvocation()
            let report: RuntimeAPIReport
            do {
                let output = try await handler(invocation.event, LambdaContext(invocation, environment: environment))
                report = .response(invocation, body: output, contentType: contentType)
            } catch {
                report = .error(invocation, ErrorResponse(error))
            }
            do throws(LambdaRuntimeError) {
                try await client.post(report)
            } catch let error where error.code == .unexpectedStatus {
                // A refused answer (400 for an attempt the host already gave up on, 413 for an oversized result)
                // ends this invocation, not the runtime; a host that is really broken fails the next `/next`.
                printToStandardError("LambdaRuntime: \(error)")
            }
        }
    }

    private static func reportInitError(_ error: LambdaRuntimeError, to client: RuntimeAPIClient) async {
        do throws(LambdaRuntimeError) {
            try await client.post(.initError(ErrorResponse(error)))
        } catch {
            printToStandardError("LambdaRuntime: could not report the init error: \(error)")
        }
    }

    private static func fail(_ error: LambdaRuntimeError) -> Never {
        printToStandardError("LambdaRuntime: \(error)")
        exit(1)
    }

    private static func printToStandardError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
