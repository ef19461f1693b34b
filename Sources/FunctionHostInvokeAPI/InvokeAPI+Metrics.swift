import HTTPTypes
import Hummingbird
import NIOCore

extension InvokeAPI {
    /// `GET /metrics`: the host's metrics in Prometheus text format (0.0.4).
    func addMetricsRoute(to router: Router<ServeRequestContext>) {
        guard let metrics else { return }
        router.get("/metrics") { _, _ async in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: await metrics())))
        }
    }
}
