import Foundation

/// An AWS six-field `cron(minutes hours day-of-month month day-of-week year)` expression
/// (EventBridge rules and Scheduler): `,` lists, `-` ranges, `*` all, `/` steps; `?` in exactly
/// one of day-of-month and day-of-week; `L` (last day of the month; in day-of-week alone,
/// Saturday; `5L` the month's last Thursday), `W` (`15W` the weekday nearest the 15th, `LW` the
/// month's last weekday) and `#` (`2#1` the first Monday). Days of the week are 1–7 = SUN–SAT;
/// months and days also take `JAN`–`DEC` and `SUN`–`SAT`. Years run 1970–2199.
///
/// Pure and thread-safe. Parsing throws ``ScheduleExpression/Invalid`` naming the rule broken.
public struct CronExpression: Sendable, Hashable {
    let minutes: Set<Int>
    let hours: Set<Int>
    let months: Set<Int>
    let years: Set<Int>
    let dayOfMonth: DayOfMonth?
    let dayOfWeek: DayOfWeek?

    enum DayOfMonth: Sendable, Hashable {
        case days(Set<Int>)
        case last
        case nearestWeekday(Int)
        case lastWeekday
    }

    enum DayOfWeek: Sendable, Hashable {
        case days(Set<Int>)
        /// The last such weekday of the month (`5L`).
        case last(Int)
        /// The n-th such weekday of the month (`2#1`).
        case nth(weekday: Int, n: Int)
    }

    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
    public static let yearRange = 1970...2199

    /// Parses the six fields inside `cron(...)`.
    public init(fields text: String) throws(ScheduleExpression.Invalid) {
        let fields = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count == 6 else {
            throw .init("a cron expression has six fields (minutes hours day-of-month month day-of-week year), got \(fields.count)")
        }
        minutes = try Self.values(fields[0], name: "minutes", range: 0...59)
        hours = try Self.values(fields[1], name: "hours", range: 0...23)
        months = try Self.values(fields[3], name: "month", range: 1...12, names: Self.monthNames, offset: 1)
        years = try Self.values(fields[5], name: "year", range: Self.yearRange)
        let (dom, dow) = (fields[2], fields[4])
        guard (dom == "?") != (dow == "?") else {
            throw .init("exactly one of day-of-month and day-of-week must be ? (got \(dom) and \(dow))")
        }
        dayOfMonth = dom == "?" ? nil : try Self.dayOfMonth(dom)
        dayOfWeek = dow == "?" ? nil : try Self.dayOfWeek(dow)
    }

    private static func dayOfMonth(_ field: String) throws(ScheduleExpression.Invalid) -> DayOfMonth {
        if field == "L" { return .last }
        if field == "LW" { return .lastWeekday }
        if field.hasSuffix("W") {
            guard let day = Int(field.dropLast()), (1...31).contains(day) else {
                throw .init("day-of-month \(field): W follows a single day from 1 to 31 (e.g. 15W)")
            }
            return .nearestWeekday(day)
        }
        return .days(try values(field, name: "day-of-month", range: 1...31))
    }

    private static func dayOfWeek(_ field: String) throws(ScheduleExpression.Invalid) -> DayOfWeek {
        if field == "L" { return .days([7]) }
        if field.hasSuffix("L") {
            guard let day = weekday(String(field.dropLast())) else {
                throw .init("day-of-week \(field): L follows a single day from 1 to 7 or SUN to SAT (e.g. 6L)")
            }
            return .last(day)
        }
        if let hash = field.firstIndex(of: "#") {
            guard let day = weekday(String(field[..<hash])), let n = Int(field[field.index(after: hash)...]), (1...5).contains(n)
            else { throw .init("day-of-week \(field): # takes a day (1-7 or SUN-SAT) and a week from 1 to 5 (e.g. 2#1)") }
            return .nth(weekday: day, n: n)
        }
        return .days(try values(field, name: "day-of-week", range: 1...7, names: dayNames, offset: 1))
    }

    private static func weekday(_ text: String) -> Int? {
        if let number = Int(text), (1...7).contains(number) { return number }
        return dayNames.firstIndex(of: text.uppercased()).map { $0 + 1 }
    }

    /// A list of `*`, `N`, `N-M`, each optionally `/STEP` (`*/5`, `10/15`, `1-30/2`).
    private static func values(
        _ field: String, name: String, range: ClosedRange<Int>, names: [String] = [], offset: Int = 0
    ) throws(ScheduleExpression.Invalid) -> Set<Int> {
        func number(_ text: Substring) throws(ScheduleExpression.Invalid) -> Int {
            if let value = Int(text), range.contains(value) { return value }
            if let index = names.firstIndex(of: text.uppercased()) { return index + offset }
            throw .init("\(name) \(field): \(text) is not a value from \(range.lowerBound) to \(range.upperBound)\(names.isEmpty ? "" : " or a name")")
        }
        var result: Set<Int> = []
        for part in field.split(separator: ",", omittingEmptySubsequences: false) {
            guard !part.isEmpty else { throw .init("\(name) \(field): an empty list item") }
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw .init("\(name) \(field): more than one / in \(part)") }
            var step = 1
            if pieces.count == 2 {
                guard let value = Int(pieces[1]), value > 0, value <= range.upperBound else {
                    throw .init("\(name) \(field): the step after / must be from 1 to \(range.upperBound)")
                }
                step = value
            }
            let base = pieces[0]
            let lower: Int
            var upper: Int
            if base == "*" {
                (lower, upper) = (range.lowerBound, range.upperBound)
            } else if let dash = base.firstIndex(of: "-") {
                lower = try number(base[..<dash])
                upper = try number(base[base.index(after: dash)...])
                guard lower <= upper else { throw .init("\(name) \(field): the range \(base) runs backwards") }
            } else {
                lower = try number(base)
                upper = pieces.count == 2 ? range.upperBound : lower
            }
            if base != "*" && base.contains("*") { throw .init("\(name) \(field): * stands alone") }
            upper = min(upper, range.upperBound)
            result.formUnion(stride(from: lower, through: upper, by: step))
        }
        return result
    }

    // MARK: Next fire times

    /// The first fire time strictly after `date`, in `timeZone`'s wall-clock time (local times a
    /// DST change skips do not fire); `nil` when none is left before 2200.
    public func next(after date: Date, in timeZone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let sortedHours = hours.sorted()
        let sortedMinutes = minutes.sorted()
        var day = calendar.startOfDay(for: date)
        guard let lastYear = years.max() else { return nil }
        while true {
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            guard let year = parts.year, let month = parts.month, let dayNumber = parts.day, let weekday = parts.weekday
            else { return nil }
            if year > lastYear { return nil }
            if years.contains(year), months.contains(month),
                matchesDay(year: year, month: month, day: dayNumber, weekday: weekday, calendar: calendar)
            {
                for hour in sortedHours {
                    for minute in sortedMinutes {
                        var wanted = DateComponents(year: year, month: month, day: dayNumber, hour: hour, minute: minute)
                        wanted.timeZone = timeZone
                        guard let candidate = calendar.date(from: wanted), candidate > date else { continue }
                        let check = calendar.dateComponents([.day, .hour, .minute], from: candidate)
                        // A local time that a DST change skips does not exist: no fire.
                        guard check.day == dayNumber, check.hour == hour, check.minute == minute else { continue }
                        return candidate
                    }
                }
            }
            guard let following = calendar.date(byAdding: .day, value: 1, to: day) else { return nil }
            day = calendar.startOfDay(for: following)
        }
    }

    private func matchesDay(year: Int, month: Int, day: Int, weekday: Int, calendar: Calendar) -> Bool {
        let monthLength = calendar.range(of: .day, in: .month, for: calendar.date(from: DateComponents(year: year, month: month, day: 1)) ?? Date())?.count ?? 31
        if let dayOfMonth {
            switch dayOfMonth {
            case .days(let days): return days.contains(day)
            case .last: return day == monthLength
            case .lastWeekday: return day == Self.nearestWeekday(to: monthLength, monthLength: monthLength, firstWeekday: Self.weekdayOfFirst(day: day, weekday: weekday))
            case .nearestWeekday(let target):
                guard target <= monthLength else { return false }
                return day == Self.nearestWeekday(to: target, monthLength: monthLength, firstWeekday: Self.weekdayOfFirst(day: day, weekday: weekday))
            }
        }
        if let dayOfWeek {
            switch dayOfWeek {
            case .days(let days): return days.contains(weekday)
            case .last(let target): return weekday == target && day + 7 > monthLength
            case .nth(let target, let n): return weekday == target && (day - 1) / 7 + 1 == n
            }
        }
        return false
    }

    /// The weekday (1 = Sunday) of the 1st, given any day of the month and its weekday.
    static func weekdayOfFirst(day: Int, weekday: Int) -> Int { ((weekday - 1 - (day - 1) % 7) % 7 + 7) % 7 + 1 }

    /// Quartz's `W`: the target itself on a weekday; Saturday moves to Friday (or Monday when the
    /// 1st is a Saturday); Sunday moves to Monday (or Friday when it is the month's last day).
    static func nearestWeekday(to target: Int, monthLength: Int, firstWeekday: Int) -> Int {
        let weekday = (firstWeekday - 1 + target - 1) % 7 + 1
        switch weekday {
        case 7: return target == 1 ? 3 : target - 1
        case 1: return target == monthLength ? target - 2 : target + 1
        default: return target
        }
    }
}
