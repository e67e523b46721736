"""The reply scorer's own arithmetic, on a two-case synthetic corpus (one read right, one wrong)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench.people import OVERALL, score_people
from bench.reading import CommitmentReading, Context, Reading
from bench.replies import as_reading, print_people
from bench.score import normalise, similarity

RIGHT_TEXT = "Friday works for the outline, and the budget is done."
WRONG_TEXT = "Posted the application yesterday, fingers crossed!"


def _write_case(folder: Path, name: str, meta: dict[str, object]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    eml = (
        "From: Ana <ana@example.org>\nTo: <reply+abcdefghijklmnopqrst@reply.coachd.example>\n"
        f"Subject: Re: Your next step\nDate: Wed, 25 Nov 2026 09:00:00 +0100\n"
        f"Message-ID: <{name}@example.org>\n\nbody\n"
    )
    (folder / f"{name}.eml").write_text(eml, encoding="utf-8")
    (folder / f"{name}.json").write_text(json.dumps(meta), encoding="utf-8")


def _meta(cls: str, expected: dict[str, object], per: object = None) -> dict[str, object]:
    return {
        "lang": "en", "client": "plain", "layout": "top", "zone": "Europe/Berlin",
        "commitments": [{"action": "draft the outline", "due": "2026-11-25"},
                        {"action": "send the budget", "due": "2026-11-26"}],
        "expected": {"kind": "reply", "pause_until": None, **expected},
        "per_commitment": per, "class": cls, "note": "synthetic",
    }  # fmt: skip


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    _write_case(tmp_path / "tune/en", "right_case", _meta(
        "multi_commitment",
        {"intent": "reschedule", "new_due": "2026-11-27", "text": RIGHT_TEXT},
        [{"intent": "reschedule", "new_due": "2026-11-27"}, {"intent": "done", "new_due": None}],
    ))  # fmt: skip
    _write_case(tmp_path / "tune/en", "wrong_case", _meta(
        "done_action_verb", {"intent": "done", "new_due": None, "text": WRONG_TEXT}
    ))  # fmt: skip
    return tmp_path


def fake_reader(raw: bytes, context: Context) -> Reading:
    """Right on right_case except one commitment; wrong intent, a false date, text minus '!'."""
    assert len(context.commitments) == 2 and context.zone is not None
    if b"<right_case@" in raw:
        per = (CommitmentReading("reschedule", date(2026, 11, 27)), CommitmentReading("note", None))
        return Reading(
            "reply", "reschedule", date(2026, 11, 27), text=f"  {RIGHT_TEXT}\n", per_commitment=per
        )
    return Reading("reply", "note", date(2026, 12, 1), text=WRONG_TEXT.rstrip("!"))


def test_one_right_one_wrong_counts_each_metric(corpus: Path) -> None:
    report = score_people([corpus], fake_reader)
    board = report.boards["tune"]

    def rate(metric: str, row: str = "all") -> tuple[int, int]:
        found = board.rate(row, metric)
        return found.hits, found.total

    assert board.sizes["all"] == 2 and report.boards["frozen"].sizes == {}
    assert rate("kind") == (2, 2)
    assert rate("intent") == (1, 2)
    assert rate("new_date") == (1, 1)  # only the reschedule case expects a date
    assert rate("no_false_date") == (0, 1)  # the done case got a date it should not have
    assert rate("pause") == (0, 0) and rate("no_false_pause") == (2, 2)
    assert rate("text_exact") == (1, 2)  # whitespace does not count, the missing "!" does
    assert rate("text_soft") == (2, 2)  # ... but is within 0.9 similarity
    assert rate("per_commitment") == (1, 2)  # counted per commitment, not per case
    assert rate("intent", "class done_action_verb") == (0, 1)
    assert rate("intent", "class multi_commitment") == (1, 1)
    assert rate("intent", "lang en") == (1, 2)
    assert report.boards[OVERALL].as_json() == board.as_json()
    missed = {case.name: {m.metric for m in misses} for case, misses in report.misses["tune"]}
    assert missed == {
        "right_case": {"per_commitment"},
        "wrong_case": {"intent", "no_false_date", "text_exact"},
    }


def test_frozen_failures_are_counted_but_not_listed(
    corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (corpus / "tune").rename(corpus / "frozen")
    report = score_people([corpus], fake_reader)
    print_people(report, verbose=True, show_frozen=False)
    hidden = capsys.readouterr().out
    assert "frozen: 2 cases with a failed metric" in hidden and "wrong_case" not in hidden
    print_people(report, verbose=True, show_frozen=True)
    assert "frozen/en/wrong_case" in capsys.readouterr().out


def test_similarity_and_normalise() -> None:
    assert normalise("  a \n\t b  ") == "a b"
    assert similarity("abcdefghij", "abcdefghiX") == pytest.approx(0.9)
    assert similarity("", "") == 1.0
    assert similarity("short", "a much longer text than that") < 0.9


def test_adapter_reads_optional_fields() -> None:
    result = SimpleNamespace(
        kind="bounce", intent=None, new_due="2026-12-04", pause_until=None, text=None,
        bounce_recipient="ana@example.org", bounce_permanent=True, bounce_class="refused",
        per_commitment=[{"intent": "done", "new_due": None}],
    )  # fmt: skip
    reading = as_reading(result)
    assert reading.new_due == date(2026, 12, 4) and reading.text == ""
    assert reading.bounce_class == "refused"
    assert reading.per_commitment == (CommitmentReading("done", None),)
    assert as_reading(SimpleNamespace(kind="reply")).per_commitment is None
