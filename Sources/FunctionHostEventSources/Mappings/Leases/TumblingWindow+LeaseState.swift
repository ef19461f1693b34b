import Foundation

extension StreamShardEngine.TumblingWindow {
    /// A shard's open windows as a lease item carries them: JSON, lane number to window.
    private struct Stored: Codable {
        var start: Int64
        var end: Int64
        var state: String
    }

    static func encode(_ windows: [Int: Self]) -> String {
        let stored = Dictionary(
            uniqueKeysWithValues: windows.map { lane, window in
                (String(lane), Stored(start: window.start, end: window.end, state: window.state))
            })
        return (try? JSONEncoder().encode(stored)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// The windows `encode` wrote; none from text that is not, and only windows that could be
    /// (another host's item is input, and a window's state goes into the function's event as is).
    static func decode(_ text: String) -> [Int: Self] {
        guard let stored = try? JSONDecoder().decode([String: Stored].self, from: Data(text.utf8)) else { return [:] }
        return Dictionary(
            stored.compactMap { lane, window in
                guard let lane = Int(lane), window.end > window.start,
                    window.state.utf8.count <= maximumStateBytes,
                    (try? JSONSerialization.jsonObject(with: Data(window.state.utf8))) is [String: Any]
                else { return nil }
                return (lane, Self(start: window.start, end: window.end, state: window.state))
            },
            uniquingKeysWith: { first, _ in first })
    }
}
