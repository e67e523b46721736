"""Stored client and commitment records: moments to the microsecond, v0.1 records still read."""

from datetime import UTC, datetime, timedelta, timezone

from jobs.state import Client, Commitment, readable_record
from tests.helpers.state import commitment

BERLIN_SUMMER = timezone(timedelta(hours=2))


def test_moments_survive_storage_to_the_microsecond() -> None:
    updated = datetime(2026, 12, 1, 9, 34, 19, 123456, tzinfo=BERLIN_SUMMER)
    stored = commitment(updated_at=updated, next_at=datetime(2026, 12, 3, 8, tzinfo=UTC))

    record = stored.to_record()
    back = Commitment.from_record("c1", record)

    assert record["updated_at"].isdigit()  # an integer: Redis stores it in 8 bytes
    assert back.updated_at == updated  # the same instant
    assert back.updated_at is not None and back.updated_at.utcoffset() == timedelta(0)
    assert back == stored


def test_a_record_from_v0_1_with_iso_moments_still_reads() -> None:
    record = commitment().to_record() | {
        "updated_at": "2026-12-01T09:34:19.123456+02:00",
        "next_at": "2026-12-03T09:00:00+00:00",
    }

    back = Commitment.from_record("c1", record)

    assert back.updated_at == datetime(2026, 12, 1, 7, 34, 19, 123456, tzinfo=UTC)
    assert back.next_at == datetime(2026, 12, 3, 9, tzinfo=UTC)


def test_readable_record_shows_moments_as_iso_and_leaves_the_rest() -> None:
    updated = datetime(2026, 12, 1, 9, 34, 19, 500000, tzinfo=UTC)
    client = Client("ana", "Ana", "ana@example.com", "Europe/Berlin", updated_at=updated)

    shown = readable_record(client.to_record())

    assert shown["updated_at"] == "2026-12-01T09:34:19.500000+00:00"
    assert shown["name"] == "Ana"
    assert "next_at" not in shown
