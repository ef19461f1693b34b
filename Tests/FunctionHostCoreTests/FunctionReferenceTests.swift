import Testing
import Foundation

@testable import FunctionHostCore

@Suite struct FunctionReferenceTests {
    @Test func parsesEveryNameFormLambdaAccepts() throws {
        #expect(FunctionReference(parsing: "my-fn") == FunctionReference(name: "my-fn"))
        #expect(FunctionReference(parsing: "my-fn:$LATEST") == FunctionReference(name: "my-fn", qualifier: "$LATEST"))
        #expect(FunctionReference(parsing: "my_fn:prod") == FunctionReference(name: "my_fn", qualifier: "prod"))
        #expect(
            FunctionReference(parsing: "123456789012:function:my-fn")
                == FunctionReference(name: "my-fn", accountID: "123456789012"))
        #expect(
            FunctionReference(parsing: "arn:aws:lambda:eu-west-1:123456789012:function:my-fn:7")
                == FunctionReference(name: "my-fn", qualifier: "7", accountID: "123456789012", region: "eu-west-1"))
    }

    @Test(arguments: ["", "has space", "a:b:c", "arn:aws:s3:::bucket", "12345:function:x", String(repeating: "x", count: 65)])
    func rejectsWhatIsNotAFunctionName(_ text: String) {
        #expect(FunctionReference(parsing: text) == nil)
    }
}

@Suite struct LambdaLogFormatTests {
    @Test func formatsReportLikeLambda() {
        let line = LambdaLogFormat.report(
            requestID: "id", duration: 162.678, memorySize: 256, maxMemoryUsed: 94, initDuration: 872.98, status: .success)
        #expect(
            line
                == "REPORT RequestId: id\tDuration: 162.68 ms\tBilled Duration: 1036 ms\tMemory Size: 256 MB\tMax Memory Used: 94 MB\tInit Duration: 872.98 ms"
        )
    }

    @Test func leavesOutAMemoryFigureThatWasNotMeasured() {
        let line = LambdaLogFormat.report(
            requestID: "id", duration: 0, memorySize: 128, maxMemoryUsed: nil, initDuration: 5, status: .error(type: "Runtime.ExitError"))
        #expect(!line.contains("Max Memory Used"))
        #expect(line.contains("Memory Size: 128 MB\tInit Duration: 5.00 ms\tStatus: error"))
    }

    @Test func appendsFailureStatus() {
        let timeout = LambdaLogFormat.report(
            requestID: "id", duration: 3000.2, memorySize: 128, maxMemoryUsed: 20, initDuration: nil, status: .timeout)
        #expect(timeout.hasSuffix("Billed Duration: 3001 ms\tMemory Size: 128 MB\tMax Memory Used: 20 MB\tStatus: timeout"))
        let exit = LambdaLogFormat.report(
            requestID: "id", duration: 1, memorySize: 128, maxMemoryUsed: 20, initDuration: nil,
            status: .error(type: "Runtime.ExitError"))
        #expect(exit.hasSuffix("\tStatus: error\tError Type: Runtime.ExitError"))
    }

    @Test func printsDurationsAsPrintfDoes() {
        var generator = SystemRandomNumberGenerator()
        // Whole nanoseconds as the host measures them, exact halves, and halves one ulp away.
        var values = (0..<20_000).map { _ in Double(UInt64.random(in: 0..<10_000_000_000, using: &generator)) / 1e6 }
        for cents in 0..<2_000 {
            let half = (Double(cents) + 0.5) / 100
            values += [half, half.nextUp, half.nextDown, Double(cents) / 8, -half]
        }
        values += [0, -0.0, 0.005, 0.015, 0.125, 0.375, 1.005, 2.675, 1e12 + 0.125, 99.995, 99.994999]
        for value in values {
            #expect(LambdaLogFormat.milliseconds(value) == String(format: "%.2f", value), "\(value)")
        }
        #expect(LambdaLogFormat.seconds(3) == "3.00")
    }

    @Test func wordsPlatformErrorsAsLambda() {
        #expect(
            FunctionErrorPayload.timeout(requestID: "r", seconds: 3).json
                == #"{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: r Error: Task timed out after 3.00 seconds"}"#)
        #expect(ExitReason.exited(status: 1).message == "Runtime exited with error: exit status 1")
        #expect(ExitReason.signaled(9).message == "Runtime exited with error: signal: killed")
        #expect(ExitReason.exited(status: 0).message == "Runtime exited without providing a reason")
        #expect(LambdaLogFormat.start(requestID: "r") == "START RequestId: r Version: $LATEST")
    }
}
