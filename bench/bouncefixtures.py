"""Bounce cases: sisimai/set-of-emails samples, with the reasons sisimai's own tests expect.

The expectation tables are the `publiclist` literals of sisimai/go-sisimai's fact/*_test.go
(Label, Index, Status, ReplyCode, Reason, HardBounce, AnotherOne), read as text with regular
expressions (never compiled or run). A test `TestLhostPostfix` with `EngineTest(t, "Postfix", …)`
covers maildir/bsd/lhost-postfix-<Label>.eml; `TestRhost…` covers rhost-…; ARF, RFC3464 and
RFC3834 have no prefix. Samples go-sisimai no longer lists (engines it merged, e.g. Office365)
take rb-sisimai's test/public/<sample prefix>.rb `IsExpected` table, where one exists.
maildir/not/ holds mails that are not bounces (its README says so).
Each sisimai reason is mapped to coachd's bounce class below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SISIMAI_TESTS = "go-sisimai/fact"
SISIMAI_RUBY_TESTS = "rb-sisimai/test/public"
SISIMAI_SAMPLES = "set-of-emails/maildir/bsd"
SISIMAI_NOT_BOUNCES = "set-of-emails/maildir/not"

# coachd's classes: "gone" = the address will never work again; "refused" = about the message,
# the sender or a temporary state (the address may well work later).
GONE = frozenset({"userunknown", "hostunknown", "suspend", "hasmoved", "notaccept"})
REFUSED = frozenset({
    "mailboxfull", "spamdetected", "policyviolation", "mesgtoobig", "emailtoolarge",
    "securityerror", "blocked", "rejected", "toomanyconn", "contenterror", "expired",
    "systemerror", "systemfull", "networkerror", "filtered", "mailererror", "norelaying",
    "authfailure", "requireptr", "notcompliantrfc", "badreputation", "ratelimited", "speeding",
    "exceedlimit", "virusdetected", "syntaxerror", "failedstarttls",
})  # fmt: skip
NOT_BOUNCE = frozenset({"delivered", "vacation"})
COMPLAINT = frozenset({"feedback"})
BOUNCE_CLASSES = frozenset({"gone", "refused", "unknown"})  # "unknown": undefined, onhold, new

_TEST = re.compile(r"func\s+Test(\w+)\s*\(")
_PUBLIC = re.compile(
    r"publiclist\s*:=\s*\[\]\[\]IsExpected\s*\{(.*?)\}\s*;?\s*"
    r'EngineTest\(\s*t\s*,\s*"([^"]+)"\s*,\s*publiclist\s*,\s*true\s*\)',
    re.DOTALL,
)
_RUBY_TABLE = re.compile(r"IsExpected\s*=\s*\{(.*?)\n\s*\}", re.DOTALL)
_RUBY_LABEL = re.compile(r"'(\d+)'\s*=>")
_RUBY_ENTRY = re.compile(r"\[\s*'[^']*'\s*,\s*'[^']*'\s*,\s*'(\w+)'\s*,\s*(?:true|false)")
_ENTRY = re.compile(
    r'\{\s*"(\w+)"\s*,\s*(\d+)\s*,\s*"([^"]*)"\s*,\s*"([^"]*)"\s*,\s*"(\w+)"\s*,\s*(true|false)'
)


@dataclass(frozen=True, slots=True)
class BounceCase:
    name: str
    raw: bytes
    reasons: tuple[str, ...]  # one per failed recipient in sisimai's table
    source: str

    @property
    def classes(self) -> frozenset[str]:
        return frozenset(coachd_class(r) for r in self.reasons)

    @property
    def group(self) -> str:
        """'bounce' when any recipient bounced, else 'complaint' or 'not_bounce'."""
        if self.classes & BOUNCE_CLASSES:
            return "bounce"
        return "complaint" if "complaint" in self.classes else "not_bounce"


def coachd_class(reason: str) -> str:
    if reason in GONE:
        return "gone"
    if reason in REFUSED:
        return "refused"
    if reason in NOT_BOUNCE:
        return "not_bounce"
    return "complaint" if reason in COMPLAINT else "unknown"


@dataclass(frozen=True, slots=True)
class BounceCorpus:
    cases: list[BounceCase]
    unlisted: list[str]  # samples no sisimai table mentions: not scored
    missing: list[str]  # go-sisimai entries whose sample is absent (renamed since)


def load_sisimai(root: Path) -> BounceCorpus:
    go_tables = sisimai_tables(root / SISIMAI_TESTS)
    tables = ruby_tables(root / SISIMAI_RUBY_TESTS) | go_tables  # the newer go tables win
    samples = root / SISIMAI_SAMPLES
    cases = [
        BounceCase(name, (samples / name).read_bytes(), reasons, source)
        for name, (reasons, source) in sorted(tables.items())
        if (samples / name).is_file()
    ]
    missing = sorted(name for name in go_tables if not (samples / name).is_file())
    unlisted = sorted(p.name for p in samples.glob("*.eml") if p.name not in tables)
    for eml in sorted((root / SISIMAI_NOT_BOUNCES).glob("*.eml")):
        cases.append(BounceCase(f"not/{eml.name}", eml.read_bytes(), ("delivered",), "maildir/not"))
    return BounceCorpus(cases, unlisted, missing)


def sisimai_tables(folder: Path) -> dict[str, tuple[tuple[str, ...], str]]:
    """sample file name -> (reasons, test file) from every public list in `folder`."""
    tables: dict[str, tuple[tuple[str, ...], str]] = {}
    for test in sorted(folder.glob("*_test.go")):
        source = test.read_text(encoding="utf-8")
        for found in _PUBLIC.finditer(source):
            before = list(_TEST.finditer(source, 0, found.start()))
            prefix = _prefix(before[-1].group(1) if before else "")
            for label, reasons in _entries(found.group(1)).items():
                tables[f"{prefix}{found.group(2).lower()}-{label}.eml"] = (reasons, test.name)
    return tables


def _prefix(test_name: str) -> str:
    for kind in ("Lhost", "Rhost"):
        if test_name.startswith(kind):
            return f"{kind.lower()}-"
    return ""


def _entries(block: str) -> dict[str, tuple[str, ...]]:
    entries: dict[str, list[str]] = {}
    for match in _ENTRY.finditer(block):
        entries.setdefault(match.group(1), []).append(match.group(5))
    return {label: tuple(reasons) for label, reasons in entries.items()}


def ruby_tables(folder: Path) -> dict[str, tuple[tuple[str, ...], str]]:
    """sample file name -> (reasons, test file) from rb-sisimai's `IsExpected` hashes."""
    tables: dict[str, tuple[tuple[str, ...], str]] = {}
    for test in sorted(folder.glob("*.rb")):
        table = _RUBY_TABLE.search(test.read_text(encoding="utf-8"))
        if table is None:
            continue
        block = table.group(1)
        labels = list(_RUBY_LABEL.finditer(block))
        for here, after in zip(labels, [*labels[1:], None], strict=True):
            chunk = block[here.end() : after.start() if after else len(block)]
            reasons = tuple(m.group(1) for m in _RUBY_ENTRY.finditer(chunk))
            if reasons:
                tables[f"{test.stem}-{here.group(1)}.eml"] = (reasons, f"rb-sisimai {test.name}")
    return tables
