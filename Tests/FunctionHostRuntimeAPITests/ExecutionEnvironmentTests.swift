import FunctionHostCore
import NIOCore
import Testing

@testable import FunctionHostRuntimeAPI

/// One environment driven event by event; each event answers with its effects' short names.
private final class Harness {
    var environment = ExecutionEnvironment()

    func next() -> [String] { names(environment.next()) }
    func invoke(_ id: String) -> [String] { names(environment.invoke(assignment(id))) }
    func close() -> [String] { names(environment.close()) }
    func withdraw(_ ticket: RuntimeMailbox.NextTicket) -> Bool { environment.withdraw(ticket) }
    func returnUndelivered(_ id: String) -> [String] { names(environment.returnUndelivered(requestID: id)) }
    func deadlineExpired(_ id: String) -> [String] { names(environment.deadlineExpired(requestID: id)) }
    func answer(_ id: String, _ kind: RuntimeMailbox.Outcome.Kind, target: String = "InvocationResponse") -> [String] {
        (try? environment.answer(requestID: id, target: target, kind).get()).map(names) ?? ["failed"]
    }
    /// The error a refused answer gets.
    func refusal(_ id: String, _ kind: RuntimeMailbox.Outcome.Kind, target: String) -> RuntimeAPIError? {
        guard case .failure(let error) = environment.answer(requestID: id, target: target, kind) else { return nil }
        return error
    }
    func initError(_ errorType: String?) -> Result<[String], RuntimeAPIError> {
        environment.initError(.initError(payload: ByteBuffer(), errorType: errorType)).map(names)
    }
    var state: ExecutionEnvironment.State { environment.state }
    var parked: RuntimeMailbox.NextTicket? { environment.parked }

    private func assignment(_ id: String) -> ExecutionEnvironment.Assignment {
        ExecutionEnvironment.Assignment(
            request: InvocationRequest(
                requestID: id, payload: ByteBuffer(string: "{}"), invokedFunctionARN: "arn:aws:lambda:us-east-1:1:function:f",
                traceID: "Root=1-0-0"),
            timeout: .seconds(3))
    }

    /// A short name for each effect, to compare sequences.
    private func names(_ effects: [ExecutionEnvironment.Effect]) -> [String] {
        effects.map { effect in
            switch effect {
            case .deliver(let assignment): "deliver \(assignment.request.requestID)"
            case .deliverToParked(let assignment): "deliverToParked \(assignment.request.requestID)"
            case .refuse(let error): "refuse \(error.status) \(error.errorType)"
            case .refuseParked(let error): "refuseParked \(error.status) \(error.errorType)"
            case .park: "park"
            case .settle(.ready): "settle ready"
            case .settle(.initError): "settle initError"
            case .settle(.closed): "settle closed"
            case .finish(.response): "finish response"
            case .finish(.error): "finish error"
            case .finish(.responseTooLarge): "finish tooLarge"
            case .finish(.timedOut): "finish timedOut"
            case .finish(.closed): "finish closed"
            case .finish(.truncated): "finish truncated"
            case .cancelDeadline: "cancelDeadline"
            }
        }
    }
}

/// The Runtime API lifecycle's decisions, without sockets, timers or processes.
@Suite struct ExecutionEnvironmentTests {
    private let response = RuntimeMailbox.Outcome.Kind.response(payload: ByteBuffer(string: "{}"), contentType: "application/json")

    @Test func aWholeInvocationWithTheNextParkedFirst() {
        let runtime = Harness()
        #expect(runtime.next() == ["settle ready", "park"])
        #expect(runtime.invoke("a") == ["deliverToParked a"])
        #expect(runtime.state == .running(requestID: "a"))
        #expect(runtime.answer("a", response) == ["finish response"])
        #expect(runtime.state == .responded(requestID: "a"))
        #expect(runtime.next() == ["park"])
        #expect(runtime.state == .ready)
    }

    @Test func anInvocationWaitsForTheNextNext() throws {
        let runtime = Harness()
        _ = runtime.next()
        #expect(runtime.withdraw(try #require(runtime.parked)))
        #expect(runtime.invoke("a") == [])
        #expect(runtime.state == .assigned)
        #expect(runtime.next() == ["deliver a"])
    }

    @Test func protocolViolationsAre4xxNeverAStateChange() {
        let runtime = Harness()
        _ = runtime.next()
        // A second /next while one is parked.
        #expect(runtime.next() == ["refuse 403 InvalidStateTransition"])
        _ = runtime.invoke("a")
        // An answer for another request id, then a second answer for the right one.
        #expect(runtime.refusal("b", response, target: "InvocationResponse") == .invalidRequestID)
        #expect(runtime.answer("a", response) == ["finish response"])
        #expect(
            runtime.refusal("a", .error(payload: ByteBuffer(), errorType: nil), target: "InvocationErrorResponse")
                == .invalidTransition(from: "RuntimeResponseSentState", to: "InvocationErrorResponse"))
        // /init/error after the first /next.
        #expect(runtime.initError(nil) == .failure(.invalidTransition(from: "RuntimeResponseSentState", to: "InitError")))
        #expect(runtime.state == .responded(requestID: "a"))
    }

    @Test func anInitErrorSettlesReadinessAndRefusesNext() {
        let runtime = Harness()
        #expect(runtime.initError("Runtime.X") == .success(["settle initError"]))
        #expect(runtime.next() == ["refuse 403 InvalidStateTransition"])
        #expect(runtime.close() == ["finish closed"])
    }

    @Test func aDeadlineEndsOnlyTheInvocationItBelongsTo() {
        let runtime = Harness()
        _ = runtime.next()
        _ = runtime.invoke("a")
        #expect(runtime.deadlineExpired("other") == [])
        #expect(runtime.deadlineExpired("a") == ["finish timedOut"])
        // The runtime answering late is told the invocation is over.
        #expect(runtime.answer("a", response) == ["failed"])
        // A deadline that fires after the answer changes nothing.
        _ = runtime.next()
        _ = runtime.invoke("b")
        _ = runtime.answer("b", response)
        #expect(runtime.deadlineExpired("b") == [])
    }

    @Test func anUndeliveredEventGoesToTheNextNextWithItsDeadlineCancelled() {
        let runtime = Harness()
        _ = runtime.next()
        _ = runtime.invoke("a")
        #expect(runtime.returnUndelivered("a") == ["cancelDeadline"])
        #expect(runtime.state == .assigned)
        #expect(runtime.returnUndelivered("a") == [])
        #expect(runtime.next() == ["deliver a"])
    }

    @Test func closingAnswersEverythingThatWaits() {
        let runtime = Harness()
        #expect(runtime.next() == ["settle ready", "park"])
        #expect(runtime.close() == ["finish closed", "refuseParked 403 InvalidStateTransition"])
        #expect(runtime.close() == [])
        #expect(runtime.next() == ["refuse 403 InvalidStateTransition"])
        #expect(runtime.invoke("a") == ["finish closed"])
    }

    @Test func closingBeforeTheFirstNextSettlesReadinessAsClosed() {
        #expect(Harness().close() == ["finish closed", "settle closed"])
    }

    @Test func aWithdrawnNextIsForgottenAndAnotherMayPark() throws {
        let runtime = Harness()
        _ = runtime.next()
        let first = try #require(runtime.parked)
        #expect(runtime.withdraw(first))
        #expect(!runtime.withdraw(first))
        #expect(runtime.next() == ["park"])
        #expect(runtime.parked != first)
    }

    @Test func aTruncatedAnswerFinishesTheInvocation() {
        let runtime = Harness()
        _ = runtime.next()
        _ = runtime.invoke("a")
        #expect(runtime.answer("a", .truncated) == ["finish truncated"])
    }
}
