import AsyncHTTPClient
import FunctionHost
import FunctionHostCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// A running host for tests: its base URL and helpers to invoke it over real HTTP.
public struct TestHost: Sendable {
    public let port: Int
    public let stateDirectory: String

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// An Invoke API answer: status, headers and body.
    public struct Answer: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: ByteBuffer

        public var text: String { String(buffer: body) }
        public func header(_ name: String) -> String? { headers.first(name: name) }
        /// The body parsed as a JSON object.
        public var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
        }
    }

    /// `POST /2015-03-31/functions/NAME/invocations` with optional extra headers.
    public func invoke(_ name: String, _ payload: String = "{}", headers: [(String, String)] = []) async throws -> Answer {
        var request = HTTPClientRequest(url: "\(baseURL)/2015-03-31/functions/\(name)/invocations")
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: payload))
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        return try await send(request)
    }

    /// Any request to the host.
    public func send(_ request: HTTPClientRequest) async throws -> Answer {
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return Answer(status: Int(response.status.code), headers: response.headers, body: body)
    }
}

/// Runs `body` against a host serving `template` on a free port, then shuts the host down
/// (stopping every worker) whether `body` returned or threw.
///
/// Pass a ``VirtualClock`` as `clock` to drive the host's time-based behaviour by hand.
public func withFunctionHost<T: Sendable>(
    template: String, clock: any HostClock = WallClock(), _ body: @Sendable (TestHost) async throws -> T
) async throws -> T {
    let stateDirectory = FileManager.default.temporaryDirectory
        .appendingPathComponent("fnhost-test-\(UUID().uuidString)").path
    let logger: Logger = {
        var logger = Logger(label: "fnhost-test")
        // Cancelling the host at the end of a test makes HummingbirdCore log its accept loop's cancellation.
        logger.logLevel = .critical
        return logger
    }()
    var configuration = HostConfiguration(
        templatePath: template, port: 0, stateDirectory: stateDirectory, consoleDescriptor: -1)
    configuration.clock = clock
    let host = try FunctionHost(configuration: configuration)
    let (ports, portContinuation) = AsyncStream<Int>.makeStream()
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            try await host.serve(logger: logger, shutdownSignals: []) { port in
                portContinuation.yield(port)
                portContinuation.finish()
            }
            return nil
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw TestHostError.didNotStart }
        defer { group.cancelAll() }
        let result = try await body(TestHost(port: port, stateDirectory: stateDirectory))
        group.cancelAll()
        return result
    }
}

/// The host ended before it reported its port.
public enum TestHostError: Error {
    case didNotStart
}

/// Polls `condition` until it holds or `timeout` passes; never a fixed sleep for an outcome.
public func eventually(
    timeout: Duration = .seconds(5), _ condition: @Sendable () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// Where the test fixtures live in the checkout.
public enum Fixtures {
    public static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Tests/Fixtures").path
}
