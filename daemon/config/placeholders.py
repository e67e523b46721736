"""Warnings for addresses still on a placeholder domain, as in the shipped example file.

Domains reserved for documentation (RFC 2606, RFC 6761) never take mail or web traffic: a
coach file that still names one is valid, and will not work. `check-config` says so,
naming the file and key, and still exits 0 (a demo or a staging set-up may mean it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from daemon.config.files import Loaded
from daemon.config.models import ConfigProblem

# Reserved top-level names and second-level domains; every name under them is reserved too.
RESERVED_DOMAINS: Final = (
    "example",
    "test",
    "invalid",
    "localhost",
    "example.com",
    "example.net",
    "example.org",
)
_WHAT_BREAKS: Final = {
    "firm.from_address": "clients would get emails from an address no one can write to",
    "firm.reply_domain": "client replies would never reach coachd",
    "firm.unsubscribe_url": "the unsubscribe link in every email would lead nowhere",
    "email": "this coach's digests and notices would go nowhere",
}


def reserved_domain(host: str) -> str | None:
    """The reserved domain `host` is, or is under; None for a real one."""
    host = host.lower().rstrip(".")
    for domain in RESERVED_DOMAINS:
        if host == domain or host.endswith(f".{domain}"):
            return domain
    return None


def placeholder_warnings(loaded: Loaded) -> list[ConfigProblem]:
    """One warning per firm or coach address on a reserved domain, with file and key."""
    warnings: list[ConfigProblem] = []
    firm, firm_file = loaded.firm, loaded.firm_files[0] if loaded.firm_files else None
    if firm is not None and firm_file is not None:
        url_host = urlsplit(firm.unsubscribe_url).hostname if firm.unsubscribe_url else None
        for key, value, host in (
            ("firm.from_address", firm.from_address, firm.from_address.rpartition("@")[2]),
            ("firm.reply_domain", firm.reply_domain, firm.reply_domain),
            ("firm.unsubscribe_url", firm.unsubscribe_url, url_host),
        ):
            if value and host and (domain := reserved_domain(host)):
                warnings.append(_warning(firm_file, key, value, domain, _WHAT_BREAKS[key]))
    for coach_id, coach in loaded.coaches.items():
        file = loaded.origin("coaches", coach_id)
        domain = reserved_domain(coach.email.rpartition("@")[2])
        if file is not None and domain:
            key = f"coaches.{coach_id}.email"
            warnings.append(_warning(file, key, coach.email, domain, _WHAT_BREAKS["email"]))
    return warnings


def _warning(file: Path, key: str, value: str, domain: str, breaks: str) -> ConfigProblem:
    name = domain if "." in domain else f".{domain}"  # example.com, or the TLD .example
    message = (
        f"{value!r} is a placeholder ({name} is reserved for documentation and reaches no"
        f" one): {breaks}; replace it"
    )
    return ConfigProblem(file, key, message)
