import Foundation
import Testing

@testable import FunctionHostCore

@Suite struct ScheduleExpressionTests {
    /// Monday 2026-11-23 12:00 UTC.
    static let start = Date(timeIntervalSince1970: 1_795_435_200)

    static func iso(_ date: Date) -> String { date.formatted(Date.ISO8601FormatStyle()) }

    func times(_ expression: String, zone: String = "UTC", from start: Date = start, count: Int = 3) throws -> [String] {
        let parsed = try ScheduleExpression(parsing: expression)
        let timeZone = try #require(TimeZone(identifier: zone))
        return parsed.fireTimes(after: start, from: start, in: timeZone, count: count).map(Self.iso)
    }

    /// Expected times come from an independent minute-by-minute reference (Python zoneinfo).
    @Test(arguments: [
        ("0 12 * * ? *", "UTC", ["2026-11-24T12:00:00Z", "2026-11-25T12:00:00Z", "2026-11-26T12:00:00Z"]),
        ("0/15 * * * ? *", "UTC", ["2026-11-23T12:15:00Z", "2026-11-23T12:30:00Z", "2026-11-23T12:45:00Z"]),
        ("5,35 14 * * ? *", "UTC", ["2026-11-23T14:05:00Z", "2026-11-23T14:35:00Z", "2026-11-24T14:05:00Z"]),
        ("0 18 ? * MON-FRI *", "UTC", ["2026-11-23T18:00:00Z", "2026-11-24T18:00:00Z", "2026-11-25T18:00:00Z"]),
        ("0 8 1 * ? *", "UTC", ["2026-12-01T08:00:00Z", "2027-01-01T08:00:00Z", "2027-02-01T08:00:00Z"]),
        ("0 10 ? * 6L *", "UTC", ["2026-11-27T10:00:00Z", "2026-12-25T10:00:00Z", "2027-01-29T10:00:00Z"]),
        ("0 9 L * ? *", "UTC", ["2026-11-30T09:00:00Z", "2026-12-31T09:00:00Z", "2027-01-31T09:00:00Z"]),
        ("0 9 LW * ? *", "UTC", ["2026-11-30T09:00:00Z", "2026-12-31T09:00:00Z", "2027-01-29T09:00:00Z"]),
        ("0 9 15W * ? *", "UTC", ["2026-12-15T09:00:00Z", "2027-01-15T09:00:00Z", "2027-02-15T09:00:00Z"]),
        ("0 9 1W * ? *", "UTC", ["2026-12-01T09:00:00Z", "2027-01-01T09:00:00Z", "2027-02-01T09:00:00Z"]),
        ("0 9 ? * 2#1 *", "UTC", ["2026-12-07T09:00:00Z", "2027-01-04T09:00:00Z", "2027-02-01T09:00:00Z"]),
        ("0 9 ? * 6#3 *", "UTC", ["2026-12-18T09:00:00Z", "2027-01-15T09:00:00Z", "2027-02-19T09:00:00Z"]),
        ("30 6 ? * L *", "UTC", ["2026-11-28T06:30:00Z", "2026-12-05T06:30:00Z", "2026-12-12T06:30:00Z"]),
        ("0 0 29 FEB ? *", "UTC", ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z", "2036-02-29T00:00:00Z"]),
        ("0 12 ? * SUN,SAT *", "UTC", ["2026-11-28T12:00:00Z", "2026-11-29T12:00:00Z", "2026-12-05T12:00:00Z"]),
        ("10-12 3 * * ? *", "UTC", ["2026-11-24T03:10:00Z", "2026-11-24T03:11:00Z", "2026-11-24T03:12:00Z"]),
        ("0 1-10/3 * * ? *", "UTC", ["2026-11-24T01:00:00Z", "2026-11-24T04:00:00Z", "2026-11-24T07:00:00Z"]),
        ("0 0 1 1 ? 2030", "UTC", ["2030-01-01T00:00:00Z"]),
        ("0 9 * * ? *", "America/New_York", ["2026-11-23T14:00:00Z", "2026-11-24T14:00:00Z", "2026-11-25T14:00:00Z"]),
        ("30 2 * * ? *", "Europe/Berlin", ["2026-11-24T01:30:00Z", "2026-11-25T01:30:00Z", "2026-11-26T01:30:00Z"]),
        ("0 12 ? * MON#2 *", "Asia/Tokyo", ["2026-12-14T03:00:00Z", "2027-01-11T03:00:00Z", "2027-02-08T03:00:00Z"]),
        ("15 10 ? JAN,JUL 4 2027-2028", "UTC", ["2027-01-06T10:15:00Z", "2027-01-13T10:15:00Z", "2027-01-20T10:15:00Z"]),
        ("0 0 31 * ? *", "UTC", ["2026-12-31T00:00:00Z", "2027-01-31T00:00:00Z", "2027-03-31T00:00:00Z"]),
        ("0 9 31W * ? *", "UTC", ["2026-12-31T09:00:00Z", "2027-01-29T09:00:00Z", "2027-03-31T09:00:00Z"]),
    ])
    func cronNextFireTimes(fields: String, zone: String, expected: [String]) throws {
        #expect(Self.iso(Self.start) == "2026-11-23T12:00:00Z")
        #expect(try times("cron(\(fields))", zone: zone, count: expected.count) == expected)
    }

    @Test func aLocalTimeSkippedByDaylightSavingDoesNotFire() throws {
        let friday = try #require(try? Date.ISO8601FormatStyle().parse("2027-03-26T12:00:00Z"))
        #expect(
            try times("cron(30 2 * * ? *)", zone: "Europe/Berlin", from: friday)
                == ["2027-03-27T01:30:00Z", "2027-03-29T00:30:00Z", "2027-03-30T00:30:00Z"])
    }

    @Test func ratesCountFromTheStart() throws {
        #expect(try times("rate(5 minutes)") == ["2026-11-23T12:05:00Z", "2026-11-23T12:10:00Z", "2026-11-23T12:15:00Z"])
        #expect(try times("rate(1 hour)", count: 2) == ["2026-11-23T13:00:00Z", "2026-11-23T14:00:00Z"])
        #expect(try times("rate(2 days)", count: 1) == ["2026-11-25T12:00:00Z"])
        let rate = try ScheduleExpression(parsing: "rate(1 minute)")
        let later = Self.start.addingTimeInterval(90)
        #expect(rate.next(after: later, from: Self.start, in: .gmt).map(Self.iso) == "2026-11-23T12:02:00Z")
    }

    @Test func atFiresOnceInItsZone() throws {
        #expect(try times("at(2026-12-01T09:30:00)", zone: "Europe/Berlin") == ["2026-12-01T08:30:00Z"])
        #expect(try times("at(2020-01-01T00:00:00)").isEmpty)
    }

    @Test(arguments: [
        ("cron(0 12 * * * *)", "exactly one of day-of-month and day-of-week must be ?"),
        ("cron(0 12 ? * ? *)", "exactly one of day-of-month and day-of-week must be ?"),
        ("cron(0 12 * * ?)", "six fields"),
        ("cron(60 12 * * ? *)", "minutes 60"),
        ("cron(0 24 * * ? *)", "hours 24"),
        ("cron(0 12 32 * ? *)", "day-of-month 32"),
        ("cron(0 12 ? * 8 *)", "day-of-week 8"),
        ("cron(0 12 ? * 2#6 *)", "#"),
        ("cron(0 12 ? * 9L *)", "L follows"),
        ("cron(0 12 40W * ? *)", "W follows"),
        ("cron(0 12 * 13 ? *)", "month 13"),
        ("cron(0 12 * * ? 2200)", "year 2200"),
        ("cron(0 20-10 * * ? *)", "runs backwards"),
        ("cron(*/0 * * * ? *)", "step"),
        ("rate(0 minutes)", "positive whole number"),
        ("rate(1 minutes)", "singular unit"),
        ("rate(5 minute)", "plural unit"),
        ("rate(5 weeks)", "minute(s), hour(s) or day(s)"),
        ("rate(5)", "a value and a unit"),
        ("every(5 minutes)", "not rate, cron or at"),
        ("cron 0 12 * * ? *", "rate(...), cron(...) or at(...)"),
        ("at(2026-13-01T00:00:00)", "out of range"),
    ])
    func invalidExpressionsNameTheRule(expression: String, rule: String) {
        #expect {
            try ScheduleExpression(parsing: expression)
        } throws: { error in
            (error as? ScheduleExpression.Invalid)?.rule.contains(rule) == true
        }
    }
}
