import Foundation
import FunctionHostTesting
import Testing

private let template = Fixtures.root + "/integration/template.yaml"

private func pid(_ answer: TestHost.Answer) -> Int? { answer.json["pid"] as? Int }

/// True once `pid` no longer runs (absent, or a zombie waiting to be reaped).
private func processIsGone(_ pid: Int) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
    return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
}

private func logTail(_ answer: TestHost.Answer) -> String {
    answer.header("X-Amz-Log-Result").flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
}

/// Workers as real processes: cold and warm starts, concurrency, timeouts, crashes, init failures.
@Suite(.serialized) struct WorkerLifecycleTests {
    @Test func coldStartThenWarmReuseOfTheSameProcess() async throws {
        try await withFunctionHost(template: template) { host in
            let cold = try await host.invoke("Instructed", #"{"pid": true}"#, headers: [("X-Amz-Log-Type", "Tail")])
            #expect(cold.status == 200)
            #expect(logTail(cold).contains("\tInit Duration: "))
            let warm = try await host.invoke("Instructed", #"{"pid": true}"#, headers: [("X-Amz-Log-Type", "Tail")])
            #expect(pid(warm) != nil)
            #expect(pid(warm) == pid(cold))
            #expect(!logTail(warm).contains("Init Duration"))
            #expect(warm.header("X-Amz-Executed-Version") == "$LATEST")
        }
    }

    @Test func concurrentInvocationsGetTheirOwnWorkers() async throws {
        try await withFunctionHost(template: template) { host in
            let pids = try await withThrowingTaskGroup(of: Int?.self) { group in
                for _ in 0..<3 {
                    group.addTask { pid(try await host.invoke("Instructed", #"{"sleep": 0.4, "pid": true}"#)) }
                }
                return try await group.reduce(into: Set<Int?>()) { $0.insert($1) }
            }
            #expect(pids.count == 3)
            #expect(!pids.contains(nil))
        }
    }

    @Test func aTimeoutKillsTheWorkerAndTheNextInvokeStartsFresh() async throws {
        try await withFunctionHost(template: template) { host in
            let first = try await host.invoke("Instructed", #"{"pid": true}"#)
            let timedOut = try await host.invoke("Instructed", #"{"sleep": 5}"#, headers: [("X-Amz-Log-Type", "Tail")])
            #expect(timedOut.status == 200)
            #expect(timedOut.header("X-Amz-Function-Error") == "Unhandled")
            #expect(timedOut.json["errorType"] as? String == "Sandbox.Timedout")
            let requestID = try #require(timedOut.header("x-amzn-RequestId"))
            #expect(
                timedOut.json["errorMessage"] as? String
                    == "RequestId: \(requestID) Error: Task timed out after 1.00 seconds")
            #expect(logTail(timedOut).contains("\(requestID) Task timed out after 1.00 seconds"))
            #expect(logTail(timedOut).contains("\tStatus: timeout"))
            let oldPID = try #require(pid(first))
            #expect(await eventually { processIsGone(oldPID) }, "the timed-out worker must be gone")
            let next = try await host.invoke("Instructed", #"{"pid": true}"#)
            #expect(pid(next) != nil && pid(next) != pid(first))
        }
    }

    @Test func aWorkerThatExitsMidInvokeIsReportedAndReplaced() async throws {
        try await withFunctionHost(template: template) { host in
            let crashed = try await host.invoke("Instructed", #"{"exit": 3}"#)
            #expect(crashed.header("X-Amz-Function-Error") == "Unhandled")
            #expect(crashed.json["errorType"] as? String == "Runtime.ExitError")
            #expect((crashed.json["errorMessage"] as? String)?.hasSuffix("Error: Runtime exited with error: exit status 3") == true)
            let killed = try await host.invoke("Instructed", #"{"kill": "SIGKILL"}"#)
            #expect((killed.json["errorMessage"] as? String)?.hasSuffix("signal: killed") == true)
            let next = try await host.invoke("Instructed", #"{"x": 1}"#)
            #expect(next.header("X-Amz-Function-Error") == nil)
            #expect(next.text.contains("\"echo\""))
        }
    }

    @Test func aFunctionErrorIsA200WithTheErrorDocument() async throws {
        try await withFunctionHost(template: template) { host in
            let failed = try await host.invoke("Instructed", #"{"error": "went wrong"}"#)
            #expect(failed.status == 200)
            #expect(failed.header("X-Amz-Function-Error") == "Unhandled")
            #expect(failed.json["errorType"] as? String == "ValueError")
            #expect(failed.json["errorMessage"] as? String == "went wrong")
            #expect(failed.json["stackTrace"] is [String])
        }
    }

    @Test func anInitFailureIsReportedEveryTimeAndTheHostStaysUp() async throws {
        try await withFunctionHost(template: template) { host in
            for _ in 0..<2 {
                let failed = try await host.invoke("BrokenImport")
                #expect(failed.status == 200)
                #expect(failed.header("X-Amz-Function-Error") == "Unhandled")
                #expect(failed.json["errorType"] as? String == "Runtime.ImportModuleError")
            }
            #expect(try await host.invoke("Instructed").status == 200)
        }
    }

    @Test func logsGoToTheFunctionsLogFileAndTheTailIsCapped() async throws {
        try await withFunctionHost(template: template) { host in
            let lines = (0..<200).map { "line-\($0)-" + String(repeating: "x", count: 40) }
            let payload = String(data: try JSONSerialization.data(withJSONObject: ["print": lines]), encoding: .utf8)!
            let answer = try await host.invoke("Instructed", payload, headers: [("X-Amz-Log-Type", "Tail")])
            let tail = logTail(answer)
            #expect(tail.utf8.count <= 4096)
            #expect(tail.contains("line-199-"))
            #expect(tail.contains("REPORT RequestId: "))
            let requestID = try #require(answer.header("x-amzn-RequestId"))
            let logFile = host.stateDirectory + "/logs/Instructed.log"
            let logged = await eventually {
                let text = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
                return text.contains("START RequestId: \(requestID) Version: $LATEST") && text.contains("line-0-")
                    && text.contains("END RequestId: \(requestID)")
            }
            #expect(logged)
        }
    }
}
