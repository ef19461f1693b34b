import AsyncHTTPClient
import Foundation
import FunctionHostTesting
import NIOCore
import NIOHTTP1
import Testing

private let template = Fixtures.root + "/integration/template.yaml"

/// The Invoke API's wire behaviour over real HTTP: status codes, AWS error shapes, invocation types.
@Suite struct InvokeAPITests {
    @Test func unknownFunctionsGetResourceNotFoundInAWSShape() async throws {
        try await withFunctionHost(template: template) { host in
            let answer = try await host.invoke("Nope")
            #expect(answer.status == 404)
            #expect(answer.header("x-amzn-ErrorType") == "ResourceNotFoundException")
            #expect(answer.json["Message"] as? String == "Function not found: arn:aws:lambda:us-east-1:123456789012:function:Nope")
            #expect(answer.json["Type"] as? String == "User")
            let qualified = try await host.invoke("Instructed%3A7")
            #expect(qualified.status == 404)
        }
    }

    @Test func acceptsPercentEncodedARNsAndQualifiers() async throws {
        try await withFunctionHost(template: template) { host in
            let arn = "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3AInstructed%3A%24LATEST"
            let answer = try await host.invoke(arn, #"{"context": true}"#)
            #expect(answer.status == 200)
            #expect(
                (answer.json["invoked_function_arn"] as? String)
                    == "arn:aws:lambda:us-east-1:123456789012:function:Instructed:$LATEST")
            var request = HTTPClientRequest(
                url: host.baseURL + "/2015-03-31/functions/Instructed%3A%24LATEST/invocations?Qualifier=prod")
            request.method = .POST
            let mismatch = try await host.send(request)
            #expect(mismatch.status == 400)
            #expect(mismatch.header("x-amzn-ErrorType") == "InvalidParameterValueException")
        }
    }

    @Test func rejectsPayloadsThatAreNotJSONOrTooLarge() async throws {
        try await withFunctionHost(template: template) { host in
            let notJSON = try await host.invoke("Instructed", "{nope")
            #expect(notJSON.status == 400)
            #expect(notJSON.header("x-amzn-ErrorType") == "InvalidRequestContentException")
            let huge = "\"" + String(repeating: "a", count: 6_291_456) + "\""
            let tooLarge = try await host.invoke("Instructed", huge)
            #expect(tooLarge.status == 413)
            #expect(tooLarge.header("x-amzn-ErrorType") == "RequestEntityTooLargeException")
        }
    }

    @Test func emptyPayloadArrivesAsAnEmptyObject() async throws {
        try await withFunctionHost(template: template) { host in
            let answer = try await host.invoke("Instructed", "")
            #expect(answer.text == #"{"echo": {}}"#)
        }
    }

    @Test func dryRunAndEventInvocations() async throws {
        try await withFunctionHost(template: template) { host in
            let dryRun = try await host.invoke("Instructed", headers: [("X-Amz-Invocation-Type", "DryRun")])
            #expect(dryRun.status == 204)
            let event = try await host.invoke(
                "Instructed", #"{"print": ["async-ran"]}"#, headers: [("X-Amz-Invocation-Type", "Event")])
            #expect(event.status == 202)
            #expect(event.body.readableBytes == 0)
            let requestID = try #require(event.header("x-amzn-RequestId"))
            let ran = await eventually {
                let log = (try? String(contentsOfFile: host.stateDirectory + "/logs/Instructed.log", encoding: .utf8)) ?? ""
                return log.contains("END RequestId: \(requestID)") && log.contains("async-ran")
            }
            #expect(ran)
            let bogus = try await host.invoke("Instructed", headers: [("X-Amz-Invocation-Type", "Sometimes")])
            #expect(bogus.status == 400)
            #expect(bogus.header("x-amzn-ErrorType") == "ValidationException")
        }
    }

    @Test func listsAndDescribesFunctions() async throws {
        try await withFunctionHost(template: template) { host in
            for path in ["/2015-03-31/functions", "/2015-03-31/functions/"] {
                let list = try await host.send(HTTPClientRequest(url: host.baseURL + path))
                #expect(list.status == 200)
                let names = (list.json["Functions"] as? [[String: Any]])?.compactMap { $0["FunctionName"] as? String }
                #expect(names == ["Instructed", "BrokenImport"])
            }
            let configuration = try await host.send(
                HTTPClientRequest(url: host.baseURL + "/2015-03-31/functions/Instructed/configuration"))
            #expect(configuration.json["Runtime"] as? String == "python3.11")
            #expect(configuration.json["Timeout"] as? Int == 1)
            #expect(configuration.json["State"] as? String == "Active")
            let function = try await host.send(HTTPClientRequest(url: host.baseURL + "/2015-03-31/functions/Instructed"))
            #expect((function.json["Configuration"] as? [String: Any])?["FunctionArn"] as? String
                == "arn:aws:lambda:us-east-1:123456789012:function:Instructed")
        }
    }
}
