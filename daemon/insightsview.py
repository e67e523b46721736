"""What `coachd insights` prints: text tables, or one HTML page with small inline SVG bar
charts (no scripts, no external assets: it opens from a file and can be mailed)."""

from __future__ import annotations

from html import escape

from jobs.insights import Insights, Tally

# Groups as the reader meets them: what was asked first, then when it was sent.
GROUPS = (
    ("by_reason", "By reason"),
    ("by_question", "By question"),
    ("by_hour", "By send hour (client's time)"),
    ("by_weekday", "By weekday"),
    ("by_kind", "By email"),
    ("by_client", "By client"),
)
BAR_W, ROW_H, LABEL_W = 220, 18, 170
FEW = 5  # below this many emails a rate is shown, but marked as a small sample


def insights_text(title: str, sections: list[tuple[str, Insights]]) -> str:
    lines = [title, ""]
    for heading, found in sections:
        overall = found.overall
        lines.append(f"{heading}: {_rate(overall)} of {overall.sent} email(s) answered")
        if found.median_days_to_completion is not None:
            lines.append(
                f"  median days from first email to done: {found.median_days_to_completion}"
            )
        for name, label in GROUPS:
            tallies: list[Tally] = getattr(found, name)
            if len(tallies) < 2 and name == "by_client":
                continue
            lines.append(f"  {label}:")
            lines += [f"    {_row(t)}" for t in tallies] or ["    (no emails)"]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _rate(tally: Tally) -> str:
    return f"{tally.rate:.0%}" if tally.sent else "-"


def _row(t: Tally) -> str:
    hours = f", median {t.median_hours} h to answer" if t.median_hours is not None else ""
    few = "  (few emails)" if t.sent < FEW else ""
    return f"{t.key:<28} {_rate(t):>5}  {t.answered}/{t.sent}{hours}{few}"


def insights_html(title: str, sections: list[tuple[str, Insights]]) -> str:
    body = [f"<h1>{escape(title)}</h1>"]
    for heading, found in sections:
        overall = found.overall
        body.append(f"<h2>{escape(heading)}</h2>")
        body.append(f"<p><strong>{_rate(overall)}</strong> of {overall.sent} email(s) answered"
                    f"{_median_days(found)}.</p>")  # fmt: skip
        for name, label in GROUPS:
            tallies: list[Tally] = getattr(found, name)
            if tallies and not (name == "by_client" and len(tallies) < 2):
                body.append(f"<h3>{escape(label)}</h3>{bar_chart(tallies)}")
    style = ("body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;color:#222}"
             "h3{font-size:1rem;margin-bottom:.2rem}svg text{font-size:12px}")  # fmt: skip
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
        f"</title><style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def _median_days(found: Insights) -> str:
    days = found.median_days_to_completion
    return "" if days is None else f"; median {days} days from first email to done"


def bar_chart(tallies: list[Tally]) -> str:
    """One bar per group: its answer rate, labelled with answered/sent; a small sample is pale."""
    height = ROW_H * len(tallies) + 4
    width = LABEL_W + BAR_W + 90
    rows = []
    for i, t in enumerate(tallies):
        y = i * ROW_H + 2
        bar = round(BAR_W * t.rate)
        colour = "#9bb7d4" if t.sent < FEW else "#2f6fab"
        rows.append(
            f'<text x="0" y="{y + 13}">{escape(t.key[:26])}</text>'
            f'<rect x="{LABEL_W}" y="{y + 2}" width="{BAR_W}" height="{ROW_H - 5}" fill="#eee"/>'
            f'<rect x="{LABEL_W}" y="{y + 2}" width="{bar}" height="{ROW_H - 5}" fill="{colour}">'
            f"<title>{escape(_row(t))}</title></rect>"
            f'<text x="{LABEL_W + BAR_W + 6}" y="{y + 13}">'
            f"{_rate(t)} ({t.answered}/{t.sent})</text>"
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img">{"".join(rows)}</svg>'
    )
