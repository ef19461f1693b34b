import Foundation

/// Durations as users type them on the command line: `30s`, `500ms`, `2m`, `1h`, `1.5s`, or a bare
/// number of seconds.
public enum DurationText {
    /// Seconds, or `nil` when `text` is not a non-negative duration.
    public static func seconds(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(suffix: String, scale: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            guard let value = Double(trimmed.dropLast(unit.suffix.count)), value >= 0, value.isFinite else { return nil }
            return value * unit.scale
        }
        guard let value = Double(trimmed), value >= 0, value.isFinite else { return nil }
        return value
    }
}
