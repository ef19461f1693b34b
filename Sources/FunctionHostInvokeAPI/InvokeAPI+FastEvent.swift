import FunctionHostCore
import HTTPTypes
import NIOCore

extension InvokeAPI {
    /// Queues a fast path's `Event` (``FastInvocation/isEvent``) when the queue takes events now:
    /// `answer` gets the route's `202` once the event's row is committed, or the route's `500`
    /// when it could not be, on any thread. `false` when the queue is not taking events (the host
    /// is stopping): nothing is called and the route answers.
    func enqueueIfAccepting(
        _ function: FunctionConfiguration, _ request: InvocationRequest,
        answer: @escaping @Sendable ((HTTPResponse, ByteBuffer)) -> Void
    ) -> Bool {
        asyncQueue.enqueueIfAccepting(function, request) { outcome in
            var (head, body): (HTTPResponse, ByteBuffer)
            switch outcome {
            case .success:
                (head, body) = (HTTPResponse(status: .accepted), ByteBuffer())
                head.headerFields[.amznRequestID] = request.requestID
            case .failure(let error):
                (head, body) = LambdaAPIError.service("The event could not be queued: \(error)").wire(
                    requestID: request.requestID)
            }
            head.headerFields[.contentLength] = String(body.readableBytes)
            head.headerFields[.date] = HTTPDate.now()
            answer((head, body))
        }
    }
}
