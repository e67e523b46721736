"""Coach templates: confined to their folder, and every render bounded in work and time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError

from jobs.composer import Composer
from jobs.sandbox import MAX_LOOP_ITERATIONS, BoundedSandbox, ConfinedLoader, TemplateRefused
from jobs.step import StepKind

RENDER_LIMIT_S = 2.0  # each hostile template below took 30+ s, or all memory, unbounded
HOSTILE = {
    "huge power": "{{ 9 ** (10 ** 8) }}",
    "power of a power": "{{ 2 ** 4000 ** 2 }}",
    "huge product": "{% set a = 2 ** 4000 %}{{ a * a * a }}",
    "string repetition": "{{ 'x' * 10 ** 9 }}",
    "list repetition": "{{ ([1] * 10 ** 9) | length }}",
    "reversed repetition": "{{ 10 ** 9 * 'x' }}",
    "huge range": "{{ range(10 ** 9) | list | length }}",
    "nested loops": "{% for a in range(9999) %}{% for b in range(9999) %}{% endfor %}{% endfor %}",
    "nested loops over text": (
        "{% set s = 'x' * 9999 %}{% for a in s %}{% for b in s %}{{ b }}{% endfor %}{% endfor %}"
    ),
    "doubling by concatenation": "{% set ns = namespace(s='x') %}"
    "{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
    "doubling by plus": "{% set ns = namespace(s='x') %}"
    "{% for i in range(60) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s | length }}",
    "filter width": "{{ 'x' | center(10 ** 9) }}",
    "indent width": "{{ 'x\ny' | indent(10 ** 9) }}",
    "method width": "{{ 'x'.ljust(10 ** 9) }}",
    "percent width": "{{ '%999999999d' % 1 }}",
    "percent star width": "{{ '%*d' % (10 ** 9, 1) }}",
    "format method width": "{{ '{:999999999}'.format(1) }}",
    "format filter width": "{{ '%999999999s' | format('x') }}",
}


@pytest.mark.parametrize("source", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_template_is_refused_in_bounded_time(source: str) -> None:
    """Compiling and rendering stop with a SecurityError well inside the time limit."""
    started = time.monotonic()
    with pytest.raises(SecurityError):
        BoundedSandbox().from_string(source).render()
    assert time.monotonic() - started < RENDER_LIMIT_S


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ 2 ** 10 }} {{ 3 * 4 }} {{ 'ab' * 3 }} {{ 1.5 ** 300 > 1 }}", "1024 12 ababab True"),
        ("{{ '%05.1f' % 3.14159 }} {{ '{:>6}'.format('ok') }}", "003.1     ok"),
        (
            "{% for a in range(3) %}{% for b in 'xy' %}{{ a }}{{ b }}{% endfor %}{% endfor %}",
            "0x0y1x1y2x2y",
        ),
        ("{{ 'x' | center(5) }}|{{ [1, 2] + [3] }}|{{ 'a' ~ 'b' }}", "  x  |[1, 2, 3]|ab"),
        ("{{ 'Goal: 1000000 steps' }} {{ 123456789 | string }}", "Goal: 1000000 steps 123456789"),
    ],
)
def test_ordinary_templates_render_as_before(source: str, expected: str) -> None:
    """Arithmetic, formatting, loops and filters of normal sizes are untouched."""
    assert BoundedSandbox().from_string(source).render() == expected


def test_loop_budget_is_per_render_not_per_environment() -> None:
    """A template that uses most of the budget renders again and again."""
    loops = f"{{% for i in range({MAX_LOOP_ITERATIONS - 1}) %}}{{% endfor %}}ok"
    template = BoundedSandbox().from_string(loops)
    for _ in range(3):
        assert template.render() == "ok"


def override_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    (folder / StepKind.REMINDER.value).mkdir(parents=True)
    return folder


def test_symlink_to_a_file_outside_the_folder_is_refused(tmp_path: Path) -> None:
    """A template that is a symlink to the env file (secrets) never gets read."""
    secret = tmp_path / "coachd.env"
    secret.write_text("COACHD_SMTP_PASSWORD=hunter2\n")
    folder = override_folder(tmp_path)
    (folder / StepKind.REMINDER.value / "body.txt").symlink_to(secret)

    with pytest.raises(TemplateRefused) as caught:
        Composer(folder)
    assert caught.value.name == f"{StepKind.REMINDER.value}/body.txt"
    assert "outside the templates folder" in caught.value.reason
    assert "hunter2" not in str(caught.value)


def test_include_through_a_symlinked_folder_is_refused(tmp_path: Path) -> None:
    """`{% include %}` of a file reached through a symlinked folder is refused too."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("hunter2")
    folder = override_folder(tmp_path)
    (folder / "shared").symlink_to(outside)
    body = folder / StepKind.REMINDER.value / "body.txt"
    body.write_text("{% include 'shared/secret.txt' %}")

    template = BoundedSandbox(loader=ConfinedLoader(folder)).get_template("reminder/body.txt")
    with pytest.raises(TemplateRefused, match="outside the templates folder"):
        template.render()


def test_symlink_inside_the_folder_and_a_device_file(tmp_path: Path) -> None:
    """A symlink that stays inside loads; one to a device (endless /dev/zero) is refused."""
    folder = override_folder(tmp_path)
    reminder = folder / StepKind.REMINDER.value
    (folder / "subject.txt").write_text("Your step today")
    (reminder / "subject.txt").symlink_to(folder / "subject.txt")
    assert isinstance(Composer(folder), Composer)

    (reminder / "body.txt").symlink_to("/dev/zero")
    with pytest.raises(TemplateRefused, match="outside the templates folder"):
        Composer(folder)
