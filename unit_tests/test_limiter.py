"""The read's shared request budget (source_jira/limiter.py), fed answers on a fake clock: what it lets start, how
many in flight, how fast, and when the next request may go, decided for every thread at once."""

from __future__ import annotations

import math
import threading
from datetime import datetime, timedelta, timezone

import pytest
import requests

from source_jira import limiter as budget
from source_jira.cdk_adapter import TransportSettings
from source_jira.limiter import AdaptiveLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(ceiling: int = 16, start: int = 8) -> tuple[AdaptiveLimiter, Clock]:
    clock = Clock()
    return AdaptiveLimiter(ceiling=ceiling, start=start, clock=clock), clock


def fill(lim: AdaptiveLimiter, clock: Clock) -> list:
    """Take every place free now."""
    tickets = []
    while (ticket := lim.try_acquire()) is not None:
        tickets.append(ticket)
    return tickets


def test_it_starts_at_eight_never_above_the_ceiling_and_holds_the_ninth():
    lim, clock = make()
    assert len(fill(lim, clock)) == 8 and lim.delay(clock.now) == math.inf
    small, clock2 = make(ceiling=3)
    assert len(fill(small, clock2)) == 3


def test_the_limit_grows_by_one_per_round_of_unpressured_answers_while_it_is_in_full_use():
    lim, clock = make()
    for _ in range(8):  # one round: 8 answers, each sent while all 8 places were taken
        tickets = fill(lim, clock)
        clock.now += 0.1
        lim.release(tickets[0], 200, {})
        for ticket in tickets[1:]:
            lim.release(ticket, 200, {})
    assert 8.9 < lim.limit < 10.1, lim.limit
    assert lim.pace is None and lim.cuts == 0


def test_the_limit_does_not_grow_when_it_is_not_in_use_and_stops_at_the_ceiling():
    lim, clock = make(ceiling=10)
    for _ in range(200):  # one request at a time: latency is not what holds the read back
        lim.release(lim.try_acquire(), 200, {})
    assert lim.limit == 8
    for _ in range(200):
        tickets = fill(lim, clock)
        for ticket in tickets:
            lim.release(ticket, 200, {})
    assert lim.limit == 10


def test_a_429_halves_the_limit_once_per_round_and_pauses_everyone_until_retry_after():
    lim, clock = make()
    tickets = fill(lim, clock)
    clock.now += 0.2
    for ticket in tickets:  # eight 429s to requests sent together: one cut, not eight
        lim.release(ticket, 429, {"Retry-After": "3", "RateLimit-Reason": "jira-burst-based"})
    assert lim.limit == 4 and lim.cuts == 1
    assert lim.not_before == pytest.approx(clock.now + 3)
    assert lim.try_acquire() is None and lim.delay(clock.now) == pytest.approx(3)  # every thread waits, not only the told one
    clock.now += 3.01
    ticket = lim.try_acquire()
    assert ticket is not None and lim.pace is None  # no answer was accepted: nothing to measure a pace on
    # a 429 to a request sent after the cut is news: cut again
    clock.now += 0.1
    lim.release(ticket, 429, {"Retry-After": "1"})
    assert lim.limit == 2 and lim.cuts == 2


def test_the_limit_never_goes_below_one():
    lim, clock = make(start=2)
    for _ in range(6):
        ticket = lim.try_acquire()
        clock.now += 0.1
        lim.release(ticket, 429, {})
    assert lim.limit == 1 and lim.not_before == 0  # no header: nobody is paused, the request retries on its own


def test_a_429_sets_a_pace_below_the_rate_jira_accepted_and_the_pace_holds_requests_apart():
    lim, clock = make()
    for _ in range(40):  # 40 accepted answers over 2 s: 20 a second
        ticket = lim.try_acquire()
        clock.now += 0.05
        lim.release(ticket, 200, {})
    ticket = lim.try_acquire()
    lim.release(ticket, 429, {"Retry-After": "1"})
    assert lim.pace == pytest.approx(0.8 * 40 / budget.RATE_WINDOW)
    clock.now = lim.not_before
    first = lim.try_acquire()
    assert first is not None and lim.try_acquire() is None  # the next one waits its slot: 1/16 s
    assert lim.delay(clock.now) == pytest.approx(1 / lim.pace)
    clock.now += 1 / lim.pace
    assert lim.try_acquire() is not None


def test_the_pace_grows_while_it_is_what_holds_requests_back_and_is_cut_again_on_the_next_429():
    lim, clock = make()
    for _ in range(20):
        ticket = lim.try_acquire()
        clock.now += 0.1
        lim.release(ticket, 200, {})
    lim.release(lim.try_acquire(), 429, {})
    pace = lim.pace
    assert pace == pytest.approx(0.8 * 20 / budget.RATE_WINDOW)
    def paced_request():
        ticket = lim.try_acquire()
        if ticket is None:  # held back by the pace: wait for the slot
            clock.now += lim.delay(clock.now)
            ticket = lim.try_acquire()
        assert ticket is not None
        return ticket

    for _ in range(int(pace) * 3):  # three seconds of requests, each but the first waiting for its slot
        lim.release(paced_request(), 200, {})
    assert pace + 2 < lim.pace < pace + 3.5, (pace, lim.pace)  # about one request/s more per second
    assert lim.limit == 4  # the first 429 halved it; now the pace answers for the rate
    grown = lim.pace
    ticket = paced_request()
    clock.now += 0.01
    lim.release(ticket, 429, {})
    assert lim.pace <= 0.8 * grown + 1e-9
    assert lim.limit == 4 and lim.cuts == 2  # a 429 with a pace cuts the pace, not the in-flight limit


def test_with_a_pace_near_limit_warnings_hold_it_and_leave_the_in_flight_limit_to_cover_latency():
    lim, clock = make()
    for _ in range(20):
        ticket = lim.try_acquire()
        clock.now += 0.1
        lim.release(ticket, 200, {})
    lim.release(lim.try_acquire(), 429, {})
    pace, cuts = lim.pace, lim.cuts
    for _ in range(50):
        ticket = lim.try_acquire()
        if ticket is None:
            clock.now += lim.delay(clock.now)
            ticket = lim.try_acquire()
        lim.release(ticket, 200, {"X-RateLimit-NearLimit": "true"})
    assert lim.pace == pace and lim.cuts == cuts and lim.limit == 4


def test_near_limit_and_a_low_remaining_cut_by_a_quarter_and_stop_the_growth():
    for headers in ({"X-RateLimit-NearLimit": "true"}, {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "19"},
                    {"X-Beta-RateLimit-NearLimit": "true"}):
        lim, clock = make()
        for _ in range(10):  # 10 answers in 2 s: 5 a second
            ticket = lim.try_acquire()
            clock.now += 0.2
            lim.release(ticket, 200, {})
        tickets = fill(lim, clock)
        clock.now += 0.1
        for ticket in tickets:
            lim.release(ticket, 200, headers)
        assert lim.limit == 6 and lim.cuts == 1, headers
        assert lim.pace == pytest.approx(0.9 * 11 / budget.RATE_WINDOW), headers  # no pace yet: hold about the rate now
        assert lim.not_before == 0  # a warning, not a refusal: nobody is paused
    lim, clock = make()
    tickets = fill(lim, clock)
    for ticket in tickets:  # a fifth or more left: no pressure
        lim.release(ticket, 200, {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "20", "X-RateLimit-NearLimit": "false"})
    assert lim.cuts == 0 and lim.limit > 8


def test_beta_retry_after_of_a_points_quota_pauses_everyone_for_the_longer_wait():
    lim, clock = make()
    ticket = lim.try_acquire()
    lim.release(ticket, 429, {"Retry-After": "2", "Beta-Retry-After": "40", "RateLimit-Reason": "jira-quota-tenant-based"})
    assert lim.not_before == pytest.approx(clock.now + 40) and lim.pauses == 1
    lim2, clock2 = make()
    lim2.release(lim2.try_acquire(), 429, {"Beta-Retry-After": "7"})
    assert lim2.not_before == pytest.approx(clock2.now + 7)
    lim3, clock3 = make()  # an hour: that stream fails loudly (JiraBackoff), the others are not held for it
    lim3.release(lim3.try_acquire(), 429, {"Retry-After": "3600"})
    assert lim3.not_before == 0 and lim3.limit == 4


def test_x_ratelimit_reset_is_the_wait_when_a_429_says_no_retry_after():
    reset = (datetime.now(timezone.utc) + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%MZ")
    wait = budget.told_wait(429, {"X-RateLimit-Reset": reset})
    assert 60 <= wait <= 120
    assert budget.told_wait(200, {"Retry-After": "5"}) is None
    assert budget.told_wait(503, {"Retry-After": "5"}) == 5


def test_503_and_timeouts_are_pressure_other_failures_are_not():
    lim, clock = make()
    lim.release(lim.try_acquire(), 503, {"Retry-After": "2"})
    assert lim.limit == 6 and lim.not_before == pytest.approx(clock.now + 2)
    lim, clock = make()
    lim.release(lim.try_acquire(), error=requests.exceptions.ReadTimeout("slow"))
    assert lim.limit == 6
    lim, clock = make()
    lim.release(lim.try_acquire(), 500, {})
    lim.release(lim.try_acquire(), error=requests.exceptions.ConnectionError("reset"))
    lim.release(lim.try_acquire(), 404, {})
    assert lim.limit == 8 and lim.cuts == 0 and lim.in_flight == 0


def test_a_per_issue_write_limit_concerns_one_issue_not_the_read():
    lim, clock = make()
    lim.release(lim.try_acquire(), 429, {"Retry-After": "5", "RateLimit-Reason": "jira-per-issue-on-write"})
    assert lim.limit == 8 and lim.not_before == 0 and lim.cuts == 0


def test_a_waiting_thread_starts_when_a_place_is_given_back():
    lim = AdaptiveLimiter(ceiling=2, start=2)
    tickets = [lim.acquire(), lim.acquire()]
    started = threading.Event()

    def third():
        lim.acquire()
        started.set()

    thread = threading.Thread(target=third, daemon=True)
    thread.start()
    assert not started.wait(0.2) and lim.in_flight == 2
    lim.release(tickets[0], 200, {})
    assert started.wait(5) and lim.in_flight == 2
    thread.join(5)


def test_a_fan_out_request_gives_way_to_any_other_waiting_request():
    """Per-issue threads (named FAN_OUT_PREFIX-…) wait while another thread waits for a place: a stream paging one
    request after another is never queued behind the fan-out; the fan-out then gets the next place."""
    lim = AdaptiveLimiter(ceiling=1, start=1)
    ticket = lim.acquire()
    order = []

    def take(who):
        t = lim.acquire()
        order.append(who)
        lim.release(t, 200, {})

    fan_out = threading.Thread(target=take, args=("fan-out",), name=f"{budget.FAN_OUT_PREFIX}-0", daemon=True)
    fan_out.start()
    fan_out.join(0.2)
    assert fan_out.is_alive() and not order  # waiting first
    other = threading.Thread(target=take, args=("pages",), name="worker-0", daemon=True)
    other.start()
    threading.Event().wait(0.2)
    lim.release(ticket, 200, {})
    fan_out.join(5)
    other.join(5)
    assert order == ["pages", "fan-out"]
    assert lim.in_flight == 0


def test_config_makes_one_limiter_per_source_and_can_turn_it_off():
    assert budget.from_config({}).ceiling == budget.CEILING_DEFAULT == 24
    assert budget.from_config({"num_workers": 4}).limit == 4
    assert budget.from_config({"num_workers": 64}).ceiling == 32
    assert budget.from_config({"adaptive_concurrency": False}) is None
    a, b = TransportSettings(), TransportSettings()
    assert a.limiter_for({}) is a.limiter_for({"num_workers": 2}) and a.limiter_for({}) is not b.limiter_for({})


def test_the_transport_gives_the_place_back_with_the_answer_or_the_error(monkeypatch):
    from requests.adapters import HTTPAdapter

    from source_jira import transport

    lim = AdaptiveLimiter(ceiling=4, start=4)
    adapter = transport.GuardedAdapter(transport.Timeouts(1, 1, 5), limiter=lim)
    seen = []

    def answer(self, request, **kwargs):
        seen.append(lim.in_flight)  # the place is held while the request is out
        if "fail" in request.url:
            raise requests.exceptions.ReadTimeout("slow", request=request)
        response = requests.Response()
        response.status_code, response.request, response.url = 429, request, request.url
        response.headers.update({"Retry-After": "2"})
        response._content = b"{}"
        return response

    monkeypatch.setattr(HTTPAdapter, "send", answer)
    monkeypatch.setattr(transport.GuardedAdapter, "_read_body", lambda self, response, started: None)
    session = requests.Session()
    session.mount("https://", adapter)
    assert session.get("https://jira.example.com/rest/api/3/myself").status_code == 429
    assert lim.in_flight == 0 and lim.limit == 2 and lim.not_before > 0  # told: everyone waits, fewer at once
    lim.not_before = 0.0
    with pytest.raises(requests.exceptions.ReadTimeout):
        session.get("https://jira.example.com/rest/api/3/fail")
    assert seen == [1, 1] and lim.in_flight == 0


def test_max_requests_per_second_is_kept_where_requests_leave():
    """The CDK's api_budget counts a request before this budget may hold it: the ceiling is kept here too, at the
    moment requests really go, so requests held for a pause cannot leave in a bunch past it."""
    clock = Clock()
    lim = AdaptiveLimiter(ceiling=16, clock=clock, max_rate=2.5)
    sent = []
    for _ in range(40):
        ticket = lim.try_acquire()
        if ticket is None:
            clock.now += lim.delay(clock.now)
            ticket = lim.try_acquire()
        sent.append(ticket)
        lim.release(ticket, 200, {})
    for i, t in enumerate(sent):  # at most ceil(2.5) = 3 in any second
        assert sum(1 for u in sent[i:] if u < t + 1.0) <= 3
    assert sum(1 for u in sent if u < sent[0] + 60) <= 150  # and 60 × 2.5 in any minute
    assert budget.from_config({"max_requests_per_second": 4})._windows == [(4, 1.0), (240, 60.0)]
    assert budget.from_config({})._windows == []


@pytest.mark.parametrize("adaptive", [True, False])
def test_the_manifests_api_budget_counts_only_when_the_budget_is_off(adaptive):
    """With the budget on, it keeps `max_requests_per_second` itself: the CDK's api_budget would count every request
    a second time; off (and in the manifest-only form) the api_budget is the ceiling."""
    from source_jira import cdk_adapter
    from source_jira.source import SourceJira
    from unit_tests.conftest import base_config

    config = base_config(max_requests_per_second=2, adaptive_concurrency=adaptive)
    streams = cdk_adapter.streams_by_name(SourceJira(config=config), ["projects", "issues"])
    sessions = [r._http_client._session for r in cdk_adapter.requesters_in(streams)]
    assert sessions
    for session in sessions:
        assert bool(session._api_budget._policies) is not adaptive
