"""Schedules: ``fnhost schedule next`` and schedules firing on the virtual clock.

The host serves Tests/Fixtures/schedules/template.yaml with ``--virtual-clock``; the tests move the clock
with ``fnhost clock advance`` and read what the recorder function received. Rule events are parsed with
powertools' ``EventBridgeModel``.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess

import pytest
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from conftest import FNHOST_BIN, REPO, start_host, wait_for

TEMPLATE = REPO / "Tests" / "Fixtures" / "schedules" / "template.yaml"
ACCOUNT = "123456789012"


def fnhost(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(FNHOST_BIN), *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("expression, zone, expected", [
    ("cron(0 12 ? * MON-FRI *)", "UTC", ["2026-11-23T12:00:00Z", "2026-11-24T12:00:00Z", "2026-11-25T12:00:00Z"]),
    ("cron(0 9 L * ? *)", "UTC", ["2026-11-30T09:00:00Z", "2026-12-31T09:00:00Z", "2027-01-31T09:00:00Z"]),
    ("cron(0 9 LW * ? *)", "UTC", ["2026-11-30T09:00:00Z", "2026-12-31T09:00:00Z", "2027-01-29T09:00:00Z"]),
    ("cron(0 9 15W * ? *)", "UTC", ["2026-12-15T09:00:00Z", "2027-01-15T09:00:00Z", "2027-02-15T09:00:00Z"]),
    ("cron(0 9 ? * 2#1 *)", "UTC", ["2026-12-07T09:00:00Z", "2027-01-04T09:00:00Z", "2027-02-01T09:00:00Z"]),
    ("cron(0 10 ? * 6L *)", "UTC", ["2026-11-27T10:00:00Z", "2026-12-25T10:00:00Z", "2027-01-29T10:00:00Z"]),
    ("cron(0 9 * * ? *)", "America/New_York", ["2026-11-23T14:00:00Z", "2026-11-24T14:00:00Z", "2026-11-25T14:00:00Z"]),
    ("rate(90 minutes)", "UTC", ["2026-11-23T13:30:00Z", "2026-11-23T15:00:00Z", "2026-11-23T16:30:00Z"]),
])
def test_schedule_next_prints_exact_utc_times(expression, zone, expected):
    result = fnhost("schedule", "next", expression, "--count", "3", "--from", "2026-11-23T11:59:00Z",
                    "--timezone", zone)
    assert result.returncode == 0, result.stderr
    if expression.startswith("rate"):
        # A rate counts from --from.
        expected = [(dt.datetime(2026, 11, 23, 11, 59, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=90 * n))
                    .strftime("%Y-%m-%dT%H:%M:%SZ") for n in (1, 2, 3)]
    assert result.stdout.split() == expected


@pytest.mark.parametrize("expression, zone, expected", [
    # From Monday 2026-11-23 12:00 UTC; the same cases as the evaluator's unit tests (Python zoneinfo reference).
    ("cron(0/15 * * * ? *)", "UTC", ["2026-11-23T12:15:00Z", "2026-11-23T12:30:00Z", "2026-11-23T12:45:00Z"]),
    ("cron(5,35 14 * * ? *)", "UTC", ["2026-11-23T14:05:00Z", "2026-11-23T14:35:00Z", "2026-11-24T14:05:00Z"]),
    ("cron(0 8 1 * ? *)", "UTC", ["2026-12-01T08:00:00Z", "2027-01-01T08:00:00Z", "2027-02-01T08:00:00Z"]),
    ("cron(0 9 1W * ? *)", "UTC", ["2026-12-01T09:00:00Z", "2027-01-01T09:00:00Z", "2027-02-01T09:00:00Z"]),
    ("cron(0 9 ? * 6#3 *)", "UTC", ["2026-12-18T09:00:00Z", "2027-01-15T09:00:00Z", "2027-02-19T09:00:00Z"]),
    ("cron(30 6 ? * L *)", "UTC", ["2026-11-28T06:30:00Z", "2026-12-05T06:30:00Z", "2026-12-12T06:30:00Z"]),
    ("cron(0 0 29 FEB ? *)", "UTC", ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z", "2036-02-29T00:00:00Z"]),
    ("cron(0 12 ? * SUN,SAT *)", "UTC", ["2026-11-28T12:00:00Z", "2026-11-29T12:00:00Z", "2026-12-05T12:00:00Z"]),
    ("cron(10-12 3 * * ? *)", "UTC", ["2026-11-24T03:10:00Z", "2026-11-24T03:11:00Z", "2026-11-24T03:12:00Z"]),
    ("cron(0 1-10/3 * * ? *)", "UTC", ["2026-11-24T01:00:00Z", "2026-11-24T04:00:00Z", "2026-11-24T07:00:00Z"]),
    ("cron(30 2 * * ? *)", "Europe/Berlin", ["2026-11-24T01:30:00Z", "2026-11-25T01:30:00Z", "2026-11-26T01:30:00Z"]),
    ("cron(0 12 ? * MON#2 *)", "Asia/Tokyo", ["2026-12-14T03:00:00Z", "2027-01-11T03:00:00Z", "2027-02-08T03:00:00Z"]),
])
def test_schedule_next_from_noon_matches_the_reference(expression, zone, expected):
    result = fnhost("schedule", "next", expression, "--count", "3", "--from", "2026-11-23T12:00:00Z",
                    "--timezone", zone)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == expected


@pytest.mark.parametrize("expression, rule", [
    ("cron(0 12 * * * *)", "exactly one of day-of-month and day-of-week must be ?"),
    ("rate(1 minutes)", "singular unit"),
    ("cron(0 25 * * ? *)", "hours 25"),
])
def test_an_invalid_expression_exits_2_naming_the_rule(expression, rule):
    result = fnhost("schedule", "next", expression)
    assert result.returncode == 2
    assert rule in result.stderr


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    host = start_host(TEMPLATE, tmp_path_factory.mktemp("schedules"), "--virtual-clock")
    try:
        yield host
    finally:
        assert host.terminate(timeout=15) == 0, host.stderr()[-2000:]


def received(host, function: str) -> list[dict]:
    return [json.loads(line.split("RECORDED ", 1)[1]) for line in host.log_text(function).splitlines()
            if "RECORDED " in line]


def now(host) -> dt.datetime:
    state = json.loads(fnhost("clock", "show", "--endpoint", host.endpoint).stdout)
    return dt.datetime.fromtimestamp(state["epochMillis"] / 1000, dt.timezone.utc)


def advance(host, duration: str):
    result = fnhost("clock", "advance", duration, "--endpoint", host.endpoint)
    assert result.returncode == 0, result.stderr


def test_schedules_fire_in_order_as_the_virtual_clock_passes_them(host):
    start = now(host)
    assert received(host, "Ticker") == [], "nothing fires while the clock stands still"
    advance(host, "15m")
    events = wait_for(lambda: (lambda e: e if len(e) >= 3 else None)(received(host, "Ticker")), 60,
                      what="three Scheduled Events")
    assert len(events) == 3, "the disabled rule never fires"
    for event in events:
        EventBridgeModel.model_validate(event)
        assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
        assert event["resources"] == [f"arn:aws:events:us-east-1:{ACCOUNT}:rule/TickerTick"]
        assert event["detail"] == {} and event["version"] == "0"
    times = sorted(dt.datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc) for e in events)
    assert [int((t - times[0]).total_seconds()) for t in times] == [0, 300, 600]
    assert 299 <= (times[0] - start).total_seconds() <= 300
    assert len({e["id"] for e in events}) == 3

    # Resources: the hourly rule's Input alone; the quarter-hour Scheduler envelope (detail is the string "{}").
    envelopes = wait_for(lambda: [e for e in received(host, "Resourced") if e.get("source") == "aws.scheduler"], 60,
                         what="the Scheduler envelope")
    assert len(envelopes) == 1
    assert envelopes[0]["detail"] == "{}"
    assert envelopes[0]["resources"] == [f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule/default/quarter-hour"]


def fired_at(event) -> dt.datetime:
    return dt.datetime.strptime(event["at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)


def test_a_time_zone_schedule_fires_once_a_day_with_its_input(host):
    # The clock starts at the real time, and an earlier test's advance may already have passed
    # 09:00 in Berlin: only this test's own 24 hours are counted.
    start = now(host)
    advance(host, "24h")
    events = wait_for(lambda: [e for e in received(host, "Daily") if fired_at(e) > start], 60, what="the daily job")
    assert len(events) == 1
    (event,) = events
    assert event["job"] == "daily"
    assert event["by"] == f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule/default/DailyMorning"
    fired = fired_at(event)
    berlin = fired.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Berlin"))
    assert (berlin.hour, berlin.minute) == (9, 0)
    hourly = wait_for(lambda: [e for e in received(host, "Resourced") if e.get("from") == "rule"], 60,
                      what="the hourly rule's Input")
    assert all(e == {"from": "rule"} for e in hourly) and len(hourly) >= 24


def test_a_malformed_schedule_stops_start_up_naming_the_property(tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text(TEMPLATE.read_text().replace("rate(5 minutes)", "rate(5 minute)")
                        .replace("../functions/recorder/", str(REPO / "Tests" / "Fixtures" / "functions" / "recorder")))
    result = fnhost("validate", "--template", str(template))
    assert result.returncode == 2
    assert "resource Ticker" in result.stderr and "Events.Tick.Properties.Schedule" in result.stderr
    assert "plural unit" in result.stderr
