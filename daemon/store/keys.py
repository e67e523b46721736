"""Every Redis key coachd writes, with its prefix and lifetime, in one place."""

from __future__ import annotations

PREFIX = "coachd:"

INBOX_STREAM = PREFIX + "inbox"
INBOX_GROUP = "coachd"
DEAD_LETTER_STREAM = PREFIX + "dead"
# Streams are capped (approximately) so an endless producer cannot fill Redis.
INBOX_MAX_LEN = 1_000_000
DEAD_LETTER_MAX_LEN = 100_000

# The step schedule: a sorted set of `<commitment>:<version>` scored by fire time (epoch
# ms). A member is all a pending step costs; its details live in the commitment's hash.
# While a worker fires a step its score is pushed a lease ahead (daemon.outbound.dispatcher).
STEP_SCHEDULE = PREFIX + "due"
# Send attempts of steps that were retried (member -> tries); absent means none yet.
STEP_TRIES = PREFIX + "due-tries"
# arq's queue: coach notices and digests. It held step jobs before steps had their own
# schedule; a step job still in it from then runs as before (daemon.outbound.delivery.fire_step).
JOB_QUEUE = PREFIX + "steps"

# A live worker rewrites this every WORKER_HEALTH_S; it expires when none is running.
WORKER_HEALTH = PREFIX + "worker-health"
WORKER_HEALTH_S = 30

# The schema version of the stored data (not of events: their `version` field), written by
# daemon.store.migration once every key is in that layout; absent means v0.1's layout (or a new,
# empty database). A start that finds the current version skips the keyspace SCAN.
STORAGE_VERSION = PREFIX + "storage-version"

# An applied event id is remembered this long; a replay within it changes nothing.
EVENT_SEEN_TTL_S = 30 * 24 * 3600
# A sent step's ledger entry is kept this long: longer than any retry or redelivery.
LEDGER_TTL_S = 14 * 24 * 3600


def commitment(commitment_id: str) -> str:
    return f"{PREFIX}c:{commitment_id}"


def client(client_id: str) -> str:
    return f"{PREFIX}cl:{client_id}"


def legacy_client_commitments(client_id: str) -> str:
    """v0.1's set of the client's commitment ids, now the client hash's `commitments` field
    (a set per client cost ~240 bytes). Only daemon.store.migration reads it: it folds each one
    into its hash, and deletes it, before a worker applies an event or fires a step."""
    return f"{PREFIX}cl:{client_id}:c"


# SCAN pattern for v0.1's sets (daemon.store.migration). Client ids have no ':', so no client
# hash matches it.
LEGACY_CLIENT_COMMITMENTS_PATTERN = legacy_client_commitments("*")


# Thread keys are spread over 32**3 = 32,768 hashes: ~30 per hash at a million commitments,
# small enough for Redis's compact (listpack) encoding.
THREAD_BUCKET_CHARS = 3


def thread(thread_key: str) -> tuple[str, str]:
    """The hash and field that map a commitment's opaque thread key (in Message-IDs and reply
    tokens) to its id: ~30 bytes a commitment, where a key of its own took ~120."""
    return f"{PREFIX}t:{thread_key[:THREAD_BUCKET_CHARS]}", thread_key[THREAD_BUCKET_CHARS:]


def legacy_thread(thread_key: str) -> str:
    """v0.1's string key per thread: only read as a fallback, and deleted on erasure."""
    return f"{PREFIX}t:{thread_key}"


def event_seen(event_id: str) -> str:
    return f"{PREFIX}ev:{event_id}"


# An event id POST /events queued is remembered this long, so a producer's retry is answered
# "duplicate" instead of being queued again; once applied, `event_seen` answers for 30 days.
# Either way an event is applied once: the apply transaction checks `event_seen`.
EVENT_POSTED_TTL_S = 24 * 3600


def event_posted(event_id: str) -> str:
    """Set (NX, with EVENT_POSTED_TTL_S) when POST /events adds the event to the inbox."""
    return f"{PREFIX}evp:{event_id}"


def coach_commitments(coach_id: str) -> str:
    """Set of the coach's commitment ids: the digest lists what is overdue or quiet."""
    return f"{PREFIX}co:{coach_id}:c"


def history(commitment_id: str) -> str:
    """List (newest first, capped) of the replies a commitment received."""
    return f"{PREFIX}c:{commitment_id}:h"


HISTORY_MAX = 50
# A coach notice's text waits this long for its job (which runs within seconds).
NOTICE_TTL_S = 7 * 24 * 3600


def digest_entries(coach_id: str) -> str:
    """List of JSON entries (replies, completions) for the coach's next digest."""
    return f"{PREFIX}digest:{coach_id}"


def notice(notice_id: str) -> str:
    """Hash with what an immediate coach notice says (commitment, headline, reply text)."""
    return f"{PREFIX}notice:{notice_id}"


def sent(kind: str, item_id: str) -> str:
    """Ledger key of a coach email (`notice`, `digest`, `brief`): sent at most once."""
    return f"{PREFIX}sent:{kind}:{item_id}"


def session(session_id: str) -> str:
    """Hash of a scheduled coaching session: client_id, coach_id, starts_at (ISO)."""
    return f"{PREFIX}session:{session_id}"


def client_sessions(client_id: str) -> str:
    """Sorted set of a client's sessions by start (epoch seconds): "since the last session"."""
    return f"{PREFIX}cl:{client_id}:sessions"


# A client's sessions kept for "since the last session": the newest this many.
SESSIONS_KEPT = 20


def imap_mailbox(account: str, mailbox: str) -> str:
    """Hash {uidvalidity, last_uid}: where IMAP polling resumes after a restart."""
    return f"{PREFIX}imap:{account}:{mailbox}"


def precomposed(step_id: str) -> str:
    """A step's email composed ahead (daemon.outbound.composeahead), by `<commitment>:<version>`."""
    return f"{PREFIX}pre:{step_id}"


def ledger(commitment_id: str, plan_gen: int, step: str) -> str:
    return f"{PREFIX}sent:{commitment_id}:{plan_gen}:{step}"


def ledger_step_id(ledger_key: str) -> str:
    """A step's id (`<commitment>:<plan_gen>:<step>`, what `coachd failed` lists) from its
    ledger key."""
    return ledger_key.removeprefix(f"{PREFIX}sent:")


# What became of emails (daemon.outbound.tally): counts per UTC day, kept a week; the last
# errors (no ids, no addresses); and the steps whose email failed, for `coachd failed`.
EMAIL_DAY_TTL_S = 8 * 24 * 3600
EMAIL_ERRORS = PREFIX + "email-errors"
FAILED_STEPS = PREFIX + "failed"  # sorted set: step id -> when it failed (epoch ms)
FAILED_STEP_INFO = PREFIX + "failed-info"  # hash: step id -> JSON (kind, outcome, reason)


def emails_on(day: str) -> str:
    """Hash {sent, failed, unknown: count} of the emails whose outcome was recorded on
    `day` (UTC, YYYY-MM-DD)."""
    return f"{PREFIX}emails:{day}"


def ledger_pattern(commitment_id: str) -> str:
    """SCAN pattern for a commitment's ledger keys (erasure only: never on the hot path)."""
    return f"{PREFIX}sent:{commitment_id}:*"


NOTICE_PATTERN = PREFIX + "notice:*"
# Late events about an erased client or commitment are refused this long; then the id is free.
ERASED_TTL_S = EVENT_SEEN_TTL_S


def erased(marker: str) -> str:
    """Set while an erased client or commitment refuses late events; `marker` is a keyed
    hash of its id, so the key itself says nothing about who was erased."""
    return f"{PREFIX}erased:{marker}"


# A reply's effect is applied once in this window, whatever Message-ID carries its words.
REPLY_REPLAY_TTL_S = 3600


def reply_replay(digest: str) -> str:
    """Set (SET NX EX) when a reply's effect on a commitment is published; `digest` hashes
    the commitment, the reply's normalised words and its intent, never the words themselves."""
    return f"{PREFIX}rr:{digest}"


# When each email of a thread was sent is kept as long as a reply to it may count.
THREAD_SENT_TTL_S = 121 * 24 * 3600


def thread_sent(thread_key: str) -> str:
    """Hash {sequence number: epoch seconds}: when each email of a thread went out, so that
    a reply matched by its References alone can be refused once that email is too old."""
    return f"{PREFIX}ts:{thread_key}"


# Mailgun signs (timestamp, token); a timestamp older than this is refused, and a token seen
# within it is a replay. The token is kept twice as long so clock skew cannot revive it.
MAILGUN_MAX_AGE_S = 5 * 60
MAILGUN_TOKEN_TTL_S = 2 * MAILGUN_MAX_AGE_S


def mailgun_token(token: str) -> str:
    """Set (NX, with MAILGUN_TOKEN_TTL_S) once a signed Mailgun post's token is accepted."""
    return f"{PREFIX}mg:{token}"


# The learning loop (jobs.learning): per client, the newest LEARNING_KEEP records of their
# emails and what followed, and per question how often it was asked and answered (also
# firm-wide, the prior for a new client). Both are bounded: the list by LTRIM, the counters by
# the size of the question banks. Erased with the client; the firm's counters name no one.
LEARNING_KEEP = 200
LEARNING_PATTERN = PREFIX + "learn:*"
FIRM_QUESTION_COUNTS = PREFIX + "learnq"


def learning(client_id: str) -> str:
    """List of JSON records, newest first: sends, answers, completions (jobs.learning)."""
    return f"{PREFIX}learn:{client_id}"


def question_counts(client_id: str) -> str:
    """Hash {`s:<question id>`: times asked, `a:<question id>`: times answered}."""
    return f"{PREFIX}learnq:{client_id}"


# Per local send hour of an overdue prompt (jobs.learning.HOUR_KINDS), how often one went and
# was answered: the client's, and the firm's (the prior). At most 24 hours' two counters each.
FIRM_HOUR_COUNTS = PREFIX + "learnh"


def hour_counts(client_id: str) -> str:
    """Hash {`s:<hour>`: overdue prompts sent at that local hour, `a:<hour>`: answered}."""
    return f"{PREFIX}learnh:{client_id}"
