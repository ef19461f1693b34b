import FunctionHostCore
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// The requests of a run, built once: a head and a body per event. Unsigned heads never change;
/// signed ones are signed again once per second per event (SigV4 dates have a one-second
/// resolution), so signing costs nothing per request.
final class RequestCatalog: Sendable {
    struct Request {
        let head: HTTPRequestHead
        let body: ByteBuffer
    }

    private let target: LoadTarget
    private let bodies: [ByteBuffer]
    private let payloadHashes: [String]
    private let unsigned: [HTTPRequestHead]
    private let signed: Mutex<[(second: Int, head: HTTPRequestHead)?]>

    init(target: LoadTarget) {
        self.target = target
        bodies = target.events.map { ByteBuffer(bytes: $0) }
        payloadHashes = target.signer == nil ? [] : target.events.map { SigV4Signer.payloadHash(of: $0) }
        unsigned = target.signer == nil ? target.events.map { target.head(body: $0, date: Date(), payloadHash: nil) } : []
        signed = Mutex(Array(repeating: nil, count: target.events.count))
    }

    /// The request for ticket `ticket` (events are cycled).
    func request(_ ticket: Int) -> Request {
        let index = ticket % bodies.count
        guard target.signer != nil else { return Request(head: unsigned[index], body: bodies[index]) }
        let now = Date()
        let second = Int(now.timeIntervalSince1970)
        let head = signed.withLock { cache -> HTTPRequestHead in
            if let cached = cache[index], cached.second == second { return cached.head }
            let head = target.head(body: target.events[index], date: now, payloadHash: payloadHashes[index])
            cache[index] = (second, head)
            return head
        }
        return Request(head: head, body: bodies[index])
    }

    /// A `DryRun` request: checks that the function exists (and, on AWS, the caller's permission) without running it.
    func dryRun() -> Request {
        let body = target.events[0]
        return Request(
            head: target.head(body: body, invocationType: "DryRun", date: Date(), payloadHash: nil),
            body: ByteBuffer(bytes: body))
    }
}
