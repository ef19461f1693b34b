import Foundation
import FunctionHostCore
import HTTPTypes
import Hummingbird
import NIOCore

/// The host clock's control route on the serve port (`fnhost clock show|advance`):
///
/// - `GET /_fnhost/clock` answers `{"now":"2026-11-23T12:00:00.000Z","epochMillis":…,"virtual":true,
///   "sleepers":3,"nextDeadline":"…"|null}`.
/// - `POST /_fnhost/clock/advance?by=DURATION` (`90s`, `15m`, `6h`, `1h30m`) moves a virtual clock
///   forward, firing what falls due in order, and answers as `GET` does afterwards. On a host
///   without `--virtual-clock` it is a 400 `InvalidParameterValueException`.
public struct HostClockEndpoint: Sendable {
    let clock: any HostClock

    public init(clock: any HostClock) { self.clock = clock }

    public static let path = "/_fnhost/clock"

    public func addRoutes(to router: Router<ServeRequestContext>) {
        router.get(RouterPath(Self.path)) { _, _ in self.state() }
        router.post(RouterPath(Self.path + "/advance")) { request, _ in await self.advance(request) }
    }

    private func advance(_ request: Request) async -> Response {
        let requestID = InvocationIdentifiers.requestID()
        guard let virtual = clock as? VirtualClock else {
            return LambdaAPIError.invalidParameter(
                "The host clock is real time; start the host with `fnhost serve --virtual-clock` to move it."
            ).response(requestID: requestID)
        }
        let text = request.uri.queryParameters.get("by").map { $0.removingPercentEncoding ?? $0 } ?? ""
        guard let duration = ClockDuration(parsing: text) else {
            return LambdaAPIError.validation(
                value: text, field: "by",
                constraint: "Member must be a duration such as 90s, 15m, 6h or 1h30m (units ms, s, m, h, d)"
            ).response(requestID: requestID)
        }
        await virtual.advance(by: duration.milliseconds)
        return state()
    }

    private func state() -> Response {
        let now = clock.now()
        let virtual = clock as? VirtualClock
        var body = "{\"now\":\(JSONText.quote(Self.iso8601(now))),\"epochMillis\":\(now),\"virtual\":\(virtual != nil)"
        if let virtual {
            body += ",\"sleepers\":\(virtual.sleeping),\"nextDeadline\":"
            body += virtual.nextDeadline.map { JSONText.quote(Self.iso8601($0)) } ?? "null"
        }
        body += "}"
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    static func iso8601(_ epochMillis: Int64) -> String {
        Date(timeIntervalSince1970: Double(epochMillis) / 1000)
            .formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
