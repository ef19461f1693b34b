import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Reads a host's `GET /metrics` (Prometheus text) for the figures `fnhost load` cannot see in
/// responses when logs are not tailed.
enum HostMetrics {
    /// The host's `fnhost_cold_starts_total` for `function`; `nil` when the endpoint has no such metric.
    static func coldStarts(endpoint: String, function: String) async -> Int? {
        let base = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        guard let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: base + "/metrics"), timeout: .seconds(10)),
            response.status == .ok, let body = try? await response.body.collect(upTo: 16 * 1024 * 1024)
        else { return nil }
        return coldStarts(inMetrics: String(buffer: body), function: function)
    }

    static func coldStarts(inMetrics text: String, function: String) -> Int? {
        var total: Double?
        for line in text.split(separator: "\n") where line.hasPrefix("fnhost_cold_starts_total{") && line.contains("=\"\(function)\"") {
            if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { total = (total ?? 0) + value }
        }
        return total.map { Int($0) }
    }
}
