/// A span of host-clock time written as people write it: `90s`, `15m`, `6h`, `2d`, `250ms`, or
/// several of them run together (`1h30m`). Parsed at the edge (`fnhost clock advance`, the clock
/// control route) into milliseconds.
public struct ClockDuration: Sendable, Equatable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    /// The longest span one advance may cover (366 days): an advance steps through every deadline
    /// in between, and a year of a one-minute schedule is already half a million steps.
    public static let maximum: Int64 = 366 * 86_400_000

    private static let units: [(suffix: String, milliseconds: Int64)] = [
        ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
    ]

    /// Parses `text`; `nil` when it is not one or more `<digits><unit>` parts or exceeds ``maximum``.
    public init?(parsing text: String) {
        var total: Int64 = 0
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count <= 12, let value = Int64(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            let letters = rest.prefix { $0.isASCII && $0.isLetter }
            guard let unit = Self.units.first(where: { $0.suffix == letters }) else { return nil }
            rest = rest.dropFirst(letters.count)
            let (product, overflow) = value.multipliedReportingOverflow(by: unit.milliseconds)
            guard !overflow, product <= Self.maximum - total else { return nil }
            total += product
        }
        milliseconds = total
    }

    public var description: String {
        var rest = milliseconds
        var text = ""
        for unit in Self.units.reversed() where rest >= unit.milliseconds {
            text += "\(rest / unit.milliseconds)\(unit.suffix)"
            rest %= unit.milliseconds
        }
        return text.isEmpty ? "0s" : text
    }
}
