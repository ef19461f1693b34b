import Foundation

/// The `NextToken` of `ListShards` and `ListStreams`: the stream and the last shard id or stream
/// name handed out, base64 so clients treat it as opaque. A token that does not parse is refused.
struct ListCursor: Sendable, Hashable {
    var name: String
    var after: String

    init(name: String, after: String) {
        self.name = name
        self.after = after
    }

    init?(token: String) {
        guard token.utf8.count <= 1024, let data = Data(base64Encoded: token),
            let text = String(data: data, encoding: .utf8)
        else { return nil }
        let parts = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "v1" else { return nil }
        self.init(name: String(parts[1]), after: String(parts[2]))
    }

    var token: String { Data("v1\n\(name)\n\(after)".utf8).base64EncodedString() }
}
