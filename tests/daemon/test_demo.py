"""`coachd demo`'s clock (issue 15 item 15): emails dated when they were due, in order, every run.

Two demos run side by side (as two people trying it on one small machine would), twice as
fast as the real demo: what they write must be the same, email for email.
"""

from __future__ import annotations

import threading
from datetime import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from daemon.demo.mailfolder import describe
from daemon.demo.scenario import DEMO_SPEED, EXPECTED_EMAILS, run_demo
from daemon.demo.script import demo_replies

pytestmark = pytest.mark.integration

SPEED = 2 * DEMO_SPEED
MADRID, NEW_YORK = ZoneInfo("Europe/Madrid"), ZoneInfo("America/New_York")
MARIA, JAMES, BEN = "maria@northstar.example", "james@northstar.example", "ben@example.org"


def _emails(folder: Path) -> list[tuple[str, EmailMessage]]:
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        found.append((path.name, message))
    return found


def _summary(folder: Path) -> list[tuple[str, str, str, str, str]]:
    """The ordered list a person compares: file name, recipient, subject, Date, and the
    text itself (the questions asked, the digest's lines)."""
    return [
        (name, m["To"].addresses[0].addr_spec, str(m["Subject"]), str(m["Date"]), _text(m))
        for name, m in _emails(folder)
    ]


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folders = (tmp_path_factory.mktemp("demo-a"), tmp_path_factory.mktemp("demo-b"))
    codes: list[int] = []
    runs = [
        threading.Thread(target=lambda f=f: codes.append(run_demo(f, speed=SPEED))) for f in folders
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert codes == [0, 0]
    return folders


def test_two_runs_send_the_same_emails_in_the_same_order(two_runs: tuple[Path, Path]) -> None:
    first, second = map(_summary, two_runs)
    assert len(first) >= EXPECTED_EMAILS
    assert first == second
    dates = [parsedate_to_datetime(date) for _, _, _, date, _ in first]
    assert dates == sorted(dates)  # numbered in the order of their Date headers


def test_the_coachs_digest_is_dated_17_00_in_the_coachs_zone(two_runs: tuple[Path, Path]) -> None:
    digests = [
        m
        for _, m in _emails(two_runs[0])
        if m["To"].addresses[0].addr_spec == MARIA and "Your clients today" in str(m["Subject"])
    ]
    assert digests
    for digest in digests:
        sent = parsedate_to_datetime(str(digest["Date"]))
        assert sent.utcoffset() == sent.astimezone(MADRID).utcoffset()  # written in her zone
        assert sent.astimezone(MADRID).time() == time(17, 0)


def test_the_notice_and_the_answer_to_a_reply_are_dated_the_minute_it_was_written(
    two_runs: tuple[Path, Path],
) -> None:
    """ "At once" is at once: no delay the demo's fast clock made out of a poll or a read."""
    [stuck] = [r for r in demo_replies() if r.client_email == BEN]
    emails = _emails(two_runs[0])
    [notice, _] = [m for _, m in emails if m["To"].addresses[0].addr_spec == JAMES]
    answer = [m for _, m in emails if m["To"].addresses[0].addr_spec == BEN][-1]

    assert "says something is in the way" in str(notice["Subject"])
    for message in (notice, answer):  # James and Ben both live in New York
        sent = parsedate_to_datetime(str(message["Date"]))
        assert sent == stuck.at
        assert sent.utcoffset() == stuck.at.astimezone(NEW_YORK).utcoffset()


def test_james_gets_his_brief_on_ben_two_hours_before_their_session(
    two_runs: tuple[Path, Path],
) -> None:
    [brief] = [m for _, m in _emails(two_runs[0]) if "Before your session" in str(m["Subject"])]

    assert brief["To"].addresses[0].addr_spec == JAMES
    assert str(brief["Date"]) == "Mon, 07 Dec 2026 08:00:00 -0500"
    text = _text(brief).replace("\r\n", "\n")
    assert (
        "blocked\n    in their words: “Honestly I'm stuck - no time this week with the move.”"
        in text
    )
    assert "How would you like to use our time today?" in text


def test_the_console_says_a_client_email_asks_and_a_coach_brief_suggests() -> None:
    def email(reply_to: str) -> EmailMessage:
        message = EmailMessage()
        message["To"], message["Subject"] = "x@example.org", "s"
        message["Date"], message["Reply-To"] = "Mon, 07 Dec 2026 08:00:00 +0000", reply_to
        message.set_content("Hi,\n\nWhat would help?\n")
        return message

    assert describe(1, email("reply+tok@reply.example"), "f").endswith("asks: What would help?")
    assert describe(2, email("ben@example.org"), "f").endswith("suggests: What would help?")
