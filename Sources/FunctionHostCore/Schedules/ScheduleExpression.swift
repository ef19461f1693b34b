import Foundation

/// An EventBridge / Scheduler schedule: `rate(N minute|minutes|hour|hours|day|days)`,
/// `cron(...)` (``CronExpression``) or, for Scheduler, a one-time `at(yyyy-mm-ddThh:mm:ss)`.
///
/// Pure. ``next(after:from:in:)`` gives fire times; parsing throws ``Invalid`` naming the rule.
public enum ScheduleExpression: Sendable, Hashable {
    /// Every `seconds`, counted from when the schedule starts.
    case rate(seconds: Int)
    case cron(CronExpression)
    /// Once, at this wall-clock time (`year`...`second`) in the schedule's time zone.
    case at(DateComponents)

    /// Why an expression was refused: the rule it breaks.
    public struct Invalid: Error, Sendable, Hashable, CustomStringConvertible {
        public var rule: String
        public init(_ rule: String) { self.rule = rule }
        public var description: String { rule }
    }

    public init(parsing text: String) throws(Invalid) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let open = trimmed.firstIndex(of: "("), trimmed.hasSuffix(")") else {
            throw Invalid("a schedule expression is rate(...), cron(...) or at(...), got \(text)")
        }
        let kind = trimmed[..<open]
        let inner = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
        switch kind {
        case "rate": self = .rate(seconds: try Self.rate(inner))
        case "cron": self = .cron(try CronExpression(fields: inner))
        case "at": self = .at(try Self.at(inner))
        default: throw Invalid("\(kind) is not rate, cron or at")
        }
    }

    private static func rate(_ text: String) throws(Invalid) -> Int {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2 else { throw Invalid("rate() takes a value and a unit, e.g. rate(5 minutes)") }
        guard let value = Int(parts[0]), value > 0, value <= 1_000_000 else {
            throw Invalid("the rate value must be a positive whole number, got \(parts[0])")
        }
        let units: [String: Int] = ["minute": 60, "hour": 3600, "day": 86_400]
        let unit = String(parts[1])
        let singular = unit.hasSuffix("s") ? String(unit.dropLast()) : unit
        guard let seconds = units[singular] else {
            throw Invalid("the rate unit must be minute(s), hour(s) or day(s), got \(unit)")
        }
        if value == 1 && unit != singular { throw Invalid("a rate of 1 takes a singular unit (\(singular)), got \(unit)") }
        if value > 1 && unit == singular { throw Invalid("a rate above 1 takes a plural unit (\(singular)s), got \(unit)") }
        return value * seconds
    }

    private static func at(_ text: String) throws(Invalid) -> DateComponents {
        let pieces = text.split(whereSeparator: { "-T:".contains($0) }).map { Int($0) }
        guard pieces.count == 6, text.count == 19, pieces.allSatisfy({ $0 != nil }) else {
            throw Invalid("at() takes yyyy-mm-ddThh:mm:ss, got \(text)")
        }
        let values = pieces.compactMap { $0 }
        let components = DateComponents(
            year: values[0], month: values[1], day: values[2], hour: values[3], minute: values[4], second: values[5])
        guard (1...12).contains(values[1]), (1...31).contains(values[2]), (0...23).contains(values[3]),
            (0...59).contains(values[4]), (0...59).contains(values[5])
        else { throw Invalid("at() has a field out of range: \(text)") }
        return components
    }

    /// The first fire strictly after `date`. A rate counts from `start` (when the schedule began).
    public func next(after date: Date, from start: Date, in timeZone: TimeZone) -> Date? {
        switch self {
        case .rate(let seconds):
            let elapsed = date.timeIntervalSince(start)
            let periods = elapsed < 0 ? 0 : (elapsed / Double(seconds)).rounded(.down) + 1
            return start.addingTimeInterval(periods * Double(seconds))
        case .cron(let cron):
            return cron.next(after: date, in: timeZone)
        case .at(let components):
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = timeZone
            guard let fire = calendar.date(from: components), fire > date else { return nil }
            return fire
        }
    }

    /// Up to `count` fire times after `date`.
    public func fireTimes(after date: Date, from start: Date, in timeZone: TimeZone, count: Int) -> [Date] {
        var times: [Date] = []
        var cursor = date
        while times.count < count, let next = next(after: cursor, from: start, in: timeZone) {
            times.append(next)
            cursor = next
        }
        return times
    }
}
