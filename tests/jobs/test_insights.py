"""The learning loop's statistics (jobs.insights): joins, rates with their sample sizes,
the answer window, and the groups a coach reads."""

from __future__ import annotations

import json

from jobs.insights import digest_lines, emails_of, insights, select

HOUR = 3600
T0 = 1_764_576_000  # Tuesday 1 December 2026, 08:00 UTC


def send(sid: str, at: int, questions: list[list[object]], *, hour: int = 9, weekday: int = 1,
         kind: str = "overdue", coach: str = "maria") -> str:  # fmt: skip
    record = {"t": "s", "id": sid, "co": coach, "at": at, "h": hour, "w": weekday, "k": kind,
              "st": "overdue-1d", "q": questions}  # fmt: skip
    return json.dumps(record)


def answer(sid: str, at: int, hours: float, intent: str = "note") -> str:
    return json.dumps({"t": "a", "id": sid, "at": at, "i": intent, "hr": hours})


def done(cid: str, at: int) -> str:
    return json.dumps({"t": "d", "c": cid, "at": at})


RECORDS = [
    send("c1:0", T0, [], kind="reminder"),
    send("c1:1", T0 + 72 * HOUR, [["why-gives", "why", 1]]),
    answer("c1:1", T0 + 76 * HOUR, 4.0),
    send("c1:2", T0 + 144 * HOUR, [["risk-uneasy", "risk", 2], ["why-still", "why", 2]], hour=17),
    done("c1", T0 + 168 * HOUR),
]


def test_answers_and_completions_are_joined_to_their_emails() -> None:
    reminder, first, second = emails_of("ana", reversed(RECORDS))  # stored newest first
    assert (reminder.kind, reminder.intent, reminder.days_to_completion) == ("reminder", None, 7.0)
    assert (first.intent, first.hours_to_answer, first.days_to_completion) == ("note", 4.0, 4.0)
    assert (second.intent, second.questions[1]) == (None, ("why-still", "why", 2))


def test_rates_come_with_their_sample_sizes_by_question_reason_hour_and_weekday() -> None:
    found = insights(emails_of("ana", RECORDS))
    assert (found.overall.sent, found.overall.answered, round(found.overall.rate, 2)) == (
        3,
        1,
        0.33,
    )
    assert {t.key: (t.answered, t.sent) for t in found.by_reason} == {"why": (1, 2), "risk": (0, 1)}
    assert {t.key: (t.answered, t.sent) for t in found.by_question} == {
        "why-gives": (1, 1), "risk-uneasy": (0, 1), "why-still": (0, 1)}  # fmt: skip
    assert [(t.key, t.answered, t.sent) for t in found.by_hour] == [
        ("09:00", 1, 2),
        ("17:00", 0, 1),
    ]
    assert [(t.key, t.sent) for t in found.by_weekday] == [("Tue", 3)]
    assert found.by_reason[0].median_hours == 4.0
    assert found.median_days_to_completion == 7.0  # from the first email of the commitment


def test_a_reply_after_the_window_is_no_answer_and_only_the_first_reply_counts() -> None:
    late = [send("c1:1", T0, [["why-gives", "why", 1]]), answer("c1:1", T0 + 200 * HOUR, 200.0)]
    assert emails_of("ana", late, within_days=7)[0].intent is None
    assert emails_of("ana", late, within_days=10)[0].intent == "note"
    twice = [late[0], answer("c1:1", T0 + 2 * HOUR, 2.0, "done"), answer("c1:1", T0 + HOUR, 1.0)]
    assert emails_of("ana", twice)[0].intent == "note"


def test_a_request_to_stop_is_no_answer() -> None:
    stopped = [send("c1:1", T0, [["why-gives", "why", 1]]), answer("c1:1", T0 + HOUR, 1.0, "stop")]
    assert emails_of("ana", stopped)[0].intent is None


def test_unreadable_records_are_skipped_not_fatal() -> None:
    emails = emails_of("ana", [b"not json", b'{"no": "kind"}', b"[1]", RECORDS[1].encode()])
    assert [e.commitment_id for e in emails] == ["c1"]


def test_a_coachs_or_a_clients_emails_are_selected_and_listed_by_client() -> None:
    by_client = {
        "ana": emails_of("ana", RECORDS),
        "ben": emails_of("ben", [send("b1:0", T0, [], coach="joao")]),
    }
    assert {e.client_id for e in select(by_client, coach="joao", client=None)} == {"ben"}
    assert len(select(by_client, coach=None, client="ana")) == 3
    assert select(by_client, coach="joao", client="ana") == []
    found = insights(select(by_client, coach=None, client=None))
    assert [(t.key, t.sent) for t in found.by_client] == [("ana", 3), ("ben", 1)]
    assert found.as_json()["overall"] == {"key": "all", "sent": 4, "answered": 1, "rate": 0.25,
                                          "median_hours": 4.0}  # fmt: skip


def test_the_weekly_digest_gets_three_lines_with_their_samples() -> None:
    week = [
        send(f"c1:{n}", T0 + n * HOUR, [["why-gives", "why", 1]], hour=9 + n % 2) for n in range(6)
    ] + [answer("c1:0", T0 + HOUR, 1.0), answer("c1:2", T0 + 3 * HOUR, 1.0),
         answer("c1:4", T0 + 5 * HOUR, 1.0), answer("c1:1", T0 + 9 * HOUR, 8.0)]  # fmt: skip
    assert digest_lines(emails_of("ana", week)) == [
        "Your clients answered 4 of 6 (67%) of coachd's emails this past week.",
        "Most answered question reason: why, 4 of 6 (67%).",
        "Most answered send hour: 09:00, 3 of 3 (100%).",
    ]
    # Too few emails to name a best reason or hour: only the first line.
    assert digest_lines(emails_of("ana", week[:2])) == [
        "Your clients answered 0 of 2 (0%) of coachd's emails this past week."
    ]
    assert digest_lines([]) == []
