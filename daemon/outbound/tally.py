"""What became of each email, counted by the same script call that records its outcome in the
send ledger (no round trip of its own): today's sent, failed and unknown (UTC day), the last
errors in words a coach can read, and the client steps whose email failed (`coachd failed`).

Counting happens only when the compare-and-set succeeds, so an email is counted once
however often its job runs: a second run finds the outcome and records nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from daemon.store import keys

# `coachd status` shows this many errors; `coachd failed` lists at most this many steps.
ERRORS_KEPT = 10
FAILED_KEPT = 1000
MAX_REASON_CHARS = 240
MS_PER_S = 1000
SENT = "sent"
UNKNOWN = "unknown"
# The prefixes daemon.outbound.sendonce and .delivery give an email's error.
GAVE_UP = "gave up"
COMPOSE = "could not compose"
# An earlier run wrote the final dot and died before the answer (daemon.outbound.recovery).
STOPPED_ANSWERING = (
    "coachd stopped while the mail server was answering: it may have arrived, so not resent"
)

# A sent email (the usual case) only swaps and counts. KEYS: the ledger key, the day's counts.
# ARGV: our claimed value, our committing value, the outcome, the ledger TTL, count it ('1'
# or ''), the counts' TTL.
_SWAP_AND_COUNT = """
local current = redis.call('GET', KEYS[1])
if current ~= ARGV[1] and current ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[4])
if ARGV[5] == '1' then
  redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
  redis.call('EXPIRE', KEYS[2], ARGV[6])
end
"""
# A failed or unknown one also keeps its error and lists its step. KEYS as above, then the
# error list, the failed set and its details. ARGV as above, then the error JSON ('' none),
# errors kept; the step id ('' none), its JSON, now (ms), steps kept, and the moment (ms)
# before which a listed step's ledger entry has expired (it can no longer be retried).
_KEEP_FAILURE = """
if ARGV[7] ~= '' then
  redis.call('LPUSH', KEYS[3], ARGV[7])
  redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[8]) - 1)
end
if ARGV[9] ~= '' then
  redis.call('ZADD', KEYS[4], ARGV[11], ARGV[9])
  redis.call('HSET', KEYS[5], ARGV[9], ARGV[10])
  local expired = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', ARGV[13])
  if #expired > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', ARGV[13])
    redis.call('HDEL', KEYS[5], unpack(expired))
  end
  local over = redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[12])
  if over > 0 then
    local oldest = redis.call('ZRANGE', KEYS[4], 0, over - 1)
    redis.call('ZREMRANGEBYRANK', KEYS[4], 0, over - 1)
    redis.call('HDEL', KEYS[5], unpack(oldest))
  end
end
"""
COUNT = _SWAP_AND_COUNT + "return 1\n"
RECORD = _SWAP_AND_COUNT + _KEEP_FAILURE + "return 1\n"

# What a coach must not be shown: file paths, C source positions (ssl's "(_ssl.c:1006)").
_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][\w.\-]+){2,}")
_SOURCE_POSITION = re.compile(r"\s*\(\w+\.(?:c|py):\d+\)")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Tally:
    """How one ledger key's outcome is counted."""

    kind: str  # the step's kind (reminder, overdue ...), or coach_notice / digest
    step_id: str = ""  # a client step (`<commitment>:<plan>:<step>`); "" for coach emails
    counted: bool = True  # False for the riders of a step's email: an email counts once


@dataclass(frozen=True, slots=True)
class Report:
    """What to count with an outcome: how, and (unless sent) why, in a coach's words."""

    tally: Tally
    reason: str = ""
    code: int | None = None


def record_call(
    key: str, ours: tuple[str, str], outcome: str, report: Report, now_ms: int
) -> tuple[str, list[str], list[str]]:
    """The script (COUNT or RECORD), its keys and its arguments: `outcome` replaces our
    claimed or committing value, and is counted as `report` says."""
    tally = report.tally
    at = datetime.fromtimestamp(now_ms / MS_PER_S, UTC)
    script_keys = [key, keys.emails_on(at.date().isoformat())]
    args = [*ours, outcome, str(keys.LEDGER_TTL_S), "1" if tally.counted else ""]
    args.append(str(keys.EMAIL_DAY_TTL_S))
    if outcome == SENT:
        return COUNT, script_keys, args
    error = {"at": at.isoformat(timespec="seconds"), "kind": tally.kind, "outcome": outcome}
    error["reason"] = report.reason
    step = {**error, "code": report.code, "step_id": tally.step_id}
    script_keys += [keys.EMAIL_ERRORS, keys.FAILED_STEPS, keys.FAILED_STEP_INFO]
    args += [json.dumps(error) if tally.counted else "", str(ERRORS_KEPT)]
    args += [tally.step_id, json.dumps(step), str(now_ms), str(FAILED_KEPT)]
    args.append(str(now_ms - keys.LEDGER_TTL_S * MS_PER_S))
    return RECORD, script_keys, args


def plain_reason(outcome: str, error: str, code: int | None, reason: str) -> str:
    """Why an email did not (or may not have) reach(ed) its reader, in a coach's words: the
    server's own answer (addresses already removed) but never a path or an exception dump."""
    if outcome == SENT:
        return ""
    if error.startswith(COMPOSE):
        # "could not compose: UndefinedError: 'x' is undefined": the type says enough.
        name = error.split(":", 2)[1].strip() if error.count(":") >= 1 else ""
        return f"the email could not be written ({name}): check the coach's templates"
    detail = clean(reason or error)
    said = f"{code}, {detail}" if code else detail
    if outcome == UNKNOWN:
        return f"no answer after the message was sent: it may have arrived, so not resent ({said})"
    if error.startswith(GAVE_UP):
        return f"the mail server kept deferring it or could not be reached; gave up ({said})"
    return f"the mail server refused it ({said})"


def clean(text: str) -> str:
    """One line, no paths or source positions, at most MAX_REASON_CHARS."""
    text = _SOURCE_POSITION.sub("", text).replace("<<address>>", "<address>")
    text = _PATH.sub("<path>", text)
    text = _SPACES.sub(" ", text).strip()
    return text[:MAX_REASON_CHARS]
