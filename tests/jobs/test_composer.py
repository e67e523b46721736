"""Tests for rendering step templates in the sandbox and composing header-safe MIME messages."""

from __future__ import annotations

import dataclasses
import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError, TemplateNotFound, TemplateSyntaxError, UndefinedError

from jobs.composer import (
    SUBJECT_MAX_CHARS,
    ComposeError,
    Composer,
    Envelope,
    RenderedMessage,
    one_line,
    thread_ids,
)
from jobs.step import StepKind

THREAD = "abcdefghijklmnop"
DOMAIN = "mail.example.org"
CLIENT_KINDS = (
    StepKind.REMINDER,
    StepKind.OVERDUE,
    StepKind.REFLECTION,
    StepKind.ACK,
    StepKind.BLOCKED,
)
# Every kind about one commitment; the digest is about all of a coach's clients, the brief
# about all of one client's commitments.
COMMITMENT_KINDS = [kind for kind in StepKind if kind not in (StepKind.DIGEST, StepKind.BRIEF)]
GUILT_OR_URGENCY = (
    "remind",
    "overdue",
    "late",
    "fail",
    "urgent",
    "final",
    "asap",
    "should",
    "must",
)
INJECTIONS = (
    "Sam\r\nBcc: evil@x.com",
    "Sam\nBcc: evil@x.com",
    "Sam\rBcc: evil@x.com",
    "Sam\u2028Bcc: evil@x.com",
    "Sam\u2029Bcc: evil@x.com",
    "Sam\x85Bcc: evil@x.com",
    "Sam\x0bBcc: evil@x.com",
    "Sam\r\n\r\nBody <evil@x.com>",
)
BASE_HEADERS = {
    "From",
    "To",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Unsubscribe",
    "Auto-Submitted",
    "X-Auto-Response-Suppress",
    "MIME-Version",
    "Content-Type",
}


def _context(**overrides: object) -> dict[str, object]:
    context: dict[str, object] = {
        "firm_name": "Bright Path Coaching",
        "coach_name": "Ana",
        "client_name": "Sam",
        "action": "Call three former colleagues about the role",
        "why": "I want work that uses my strengths",
        "due_date": "Friday 4 December",
        "days_until_due": 2,
        "overdue_days": 5,
        "questions": ["What would make this step a little easier for you?", "Who could help?"],
        # ack
        "understood": "due",
        "lang": "en",
        "pause_until": "",
        "unanswered": 3,
        # coach_notice
        "headline": "says something is in the way",
        "reply_text": "No time this week, work is mad.",
        "client_email": "sam@example.org",
        "client_reachable": True,
        # digest
        "replies": [
            {
                "client_name": "Sam",
                "action": "Call three",
                "intent": "note",
                "text": "Called one!",
                "moved": 1,
            }
        ],
        "completed": [{"client_name": "Lee", "action": "Draft the CV"}],
        "overdue": [{"client_name": "Kim", "action": "Book the room", "days": 3, "moved": 0}],
        "quiet": [{"client_name": "Jo", "action": "Write the plan"}],
    }
    return context | overrides


def _envelope(seq: int = 0, **overrides: object) -> Envelope:
    message_id, in_reply_to, references = thread_ids(THREAD, seq, DOMAIN)
    envelope = Envelope(
        from_name="Ana at Bright Path",
        from_address="coach@bright.example",
        to_name="Sam",
        to_address="sam@example.com",
        reply_to="reply+token@bright.example",
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        list_unsubscribe="<mailto:reply+token@bright.example?subject=stop>",
        date=datetime(2024, 12, 4, 9, 0, tzinfo=UTC),
    )
    return dataclasses.replace(envelope, **overrides)  # type: ignore[arg-type]


def _parsed(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _recipients(msg: EmailMessage) -> list[str]:
    fields = [str(v) for name in ("To", "Cc", "Bcc") for v in msg.get_all(name, [])]
    return [address for _, address in getaddresses(fields)]


@pytest.fixture(scope="module")
def composer() -> Composer:
    return Composer()


def _write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# Rendering the built-in templates.


def test_the_digest_lists_each_section(composer: Composer) -> None:
    rendered = composer.render(StepKind.DIGEST, _context())
    assert rendered.subject == "Your clients today: 1 reply, 1 overdue, 1 done"
    for line in (
        "Sam on “Call three” (note, moved 1 time):",
        "Called one!",
        "Lee: Draft the CV",
        "Kim: Book the room (3 days)",
        "Jo: Write the plan",
    ):
        assert line in rendered.text
    assert "<li>Kim: Book the room (3 days)</li>" in rendered.html


@pytest.mark.parametrize("kind", COMMITMENT_KINDS)
def test_every_kind_renders_subject_text_and_html(composer: Composer, kind: StepKind) -> None:
    rendered = composer.render(kind, _context())
    assert "Call three former colleagues" in rendered.subject
    assert "\n" not in rendered.subject
    assert "    Call three former colleagues about the role\n" in rendered.text
    assert "Call three former colleagues about the role</blockquote>" in rendered.html
    assert rendered.html.startswith("<!DOCTYPE html>")


def test_client_emails_of_a_commitment_share_one_subject(composer: Composer) -> None:
    subjects = {composer.render(kind, _context()).subject for kind in CLIENT_KINDS}
    assert subjects == {"Your step: Call three former colleagues about the role"}


def test_subject_truncates_a_long_action_the_same_way_every_time(composer: Composer) -> None:
    action = "Write the first chapter " * 10
    subjects = {composer.render(kind, _context(action=action)).subject for kind in CLIENT_KINDS}
    assert subjects == {"Your step: Write the first chapter Write the first chapter Write..."}


@pytest.mark.parametrize("kind", [k for k in CLIENT_KINDS if k is not StepKind.ACK])
def test_client_emails_invite_a_reply_to_the_coach(composer: Composer, kind: StepKind) -> None:
    """(A confirmation has its own footer, in the client's language: see below.)"""
    rendered = composer.render(kind, _context())
    assert rendered.text.startswith("Hi Sam,\n\n")
    footer = "Just reply to this email — your coach Ana reads every reply.\n"
    assert footer + "Reply “stop” to stop these emails.\n" in rendered.text
    assert "your coach Ana reads every reply.<br>" in rendered.html
    assert rendered.text.endswith("-- \nBright Path Coaching\n")


@pytest.mark.parametrize(
    ("days", "phrase"), [(0, "(today)"), (1, "(tomorrow)"), (3, "(in 3 days)")]
)
def test_reminder_names_the_day_in_their_own_words(
    composer: Composer, days: int, phrase: str
) -> None:
    text = composer.render(StepKind.REMINDER, _context(days_until_due=days)).text
    assert f"Friday 4 December {phrase} is the day you chose for this step:" in text
    assert "Why it matters to you, in your words: “I want work that uses my strengths”" in text


def test_reminder_without_a_why_leaves_the_line_out(composer: Composer) -> None:
    rendered = composer.render(StepKind.REMINDER, _context(why=""))
    assert "Why it matters" not in rendered.text
    assert "Why it matters" not in rendered.html
    assert "\n\n\n" not in rendered.text


@pytest.mark.parametrize("kind", [StepKind.OVERDUE, StepKind.REFLECTION])
def test_later_emails_carry_no_guilt_or_urgency(composer: Composer, kind: StepKind) -> None:
    rendered = composer.render(kind, _context(questions=["What comes to mind for you?"]))
    for body in (rendered.subject, rendered.text, rendered.html):
        assert [word for word in GUILT_OR_URGENCY if word in body.lower()] == []


def test_overdue_asks_its_questions(composer: Composer) -> None:
    questions = ["What would make this step a little easier for you?", "Who could help?"]
    rendered = composer.render(StepKind.OVERDUE, _context(questions=questions))
    assert "Here are two questions you might like to sit with:\n\n" in rendered.text
    assert "  - What would make this step a little easier for you?\n  - Who could help?\n" in (
        rendered.text
    )
    assert '<li style="margin-bottom:8px;">Who could help?</li>' in rendered.html


def test_overdue_with_one_question_says_so(composer: Composer) -> None:
    text = composer.render(StepKind.OVERDUE, _context(questions=["Who could help?"])).text
    assert "Here is a question you might like to sit with:\n\n  - Who could help?\n\n" in text


def test_reflection_celebrates_and_asks_what_they_learned(composer: Composer) -> None:
    text = composer.render(StepKind.REFLECTION, _context()).text
    assert "You did it:" in text
    assert "  - What did you learn from taking this step?\n" in text
    assert "  - What will you carry forward into your next one?\n" in text


def test_coach_quiet_tells_the_coach_a_conversation_comes_next(composer: Composer) -> None:
    rendered = composer.render(StepKind.COACH_QUIET, _context())
    assert rendered.subject == "Sam has gone quiet on: Call three former colleagues about the role"
    assert rendered.text.startswith("Hi Ana,\n\nSam has not answered the last 3 notes")
    assert "A human conversation is the next step" in rendered.text
    assert "Reply “stop”" not in rendered.text
    assert "Reply “stop”" not in rendered.html


def test_html_body_escapes_client_text(composer: Composer) -> None:
    action = "<script>alert('x')</script> & more"
    rendered = composer.render(StepKind.REMINDER, _context(action=action, why='<b>"me"</b>'))
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more" in rendered.html
    assert "&lt;b&gt;&#34;me&#34;&lt;/b&gt;" in rendered.html
    assert f"    {action}\n" in rendered.text  # plain text needs no escaping


def test_missing_context_variable_is_an_error(composer: Composer) -> None:
    context = _context()
    del context["coach_name"]
    with pytest.raises(UndefinedError, match="'coach_name' is undefined"):
        composer.render(StepKind.REMINDER, context)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  one\n two\r\n\tthree  ", "one two three"),
        ("a\u2028b\u2029c\x85d", "a b c d"),
        ("evil\u202etxt.exe\u200b!", "evil txt.exe !"),
        ("x" * 250, "x" * (SUBJECT_MAX_CHARS - 1) + "…"),
        ("=?utf-8?b?SGk=?=", "= ?utf-8?b?SGk= ?="),
    ],
)
def test_one_line_makes_text_header_safe(text: str, expected: str) -> None:
    assert one_line(text, SUBJECT_MAX_CHARS) == expected


# Threading.


def test_thread_ids_chain_every_message_to_the_root() -> None:
    root, first, second = (f"<{THREAD}.{n}@{DOMAIN}>" for n in range(3))
    assert thread_ids(THREAD, 0, DOMAIN) == (root, None, ())
    assert thread_ids(THREAD, 1, DOMAIN) == (first, root, (root,))
    assert thread_ids(THREAD, 2, DOMAIN) == (second, first, (root, first))


@pytest.mark.parametrize(("thread", "seq", "domain"), [(THREAD, -1, DOMAIN), (THREAD, 0, "a b")])
def test_thread_ids_reject_unsafe_parts(thread: str, seq: int, domain: str) -> None:
    with pytest.raises(ComposeError):
        thread_ids(thread, seq, domain)


# Composing.


def test_composed_message_has_the_expected_headers(composer: Composer) -> None:
    rendered = composer.render(StepKind.OVERDUE, _context())
    msg = _parsed(composer.compose(_envelope(seq=2), rendered))
    root, first, second = (f"<{THREAD}.{n}@{DOMAIN}>" for n in range(3))
    assert set(msg.keys()) == BASE_HEADERS | {"In-Reply-To", "References"}
    assert msg["From"] == "Ana at Bright Path <coach@bright.example>"
    assert msg["To"] == "Sam <sam@example.com>"
    assert msg["Reply-To"] == "reply+token@bright.example"
    assert msg["Subject"] == rendered.subject
    assert msg["Date"] == "Wed, 04 Dec 2024 09:00:00 +0000"
    assert msg["Message-ID"] == second
    assert msg["In-Reply-To"] == first
    assert msg["References"].split() == [root, first]  # folded: leading space is whitespace
    assert msg["List-Unsubscribe"] == "<mailto:reply+token@bright.example?subject=stop>"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg["Precedence"] is None


def test_first_message_of_a_thread_has_no_reply_headers(composer: Composer) -> None:
    rendered = composer.render(StepKind.REMINDER, _context())
    msg = _parsed(composer.compose(_envelope(seq=0), rendered))
    assert set(msg.keys()) == BASE_HEADERS
    assert msg["Message-ID"] == f"<{THREAD}.0@{DOMAIN}>"


def test_optional_headers_are_left_out_when_unset(composer: Composer) -> None:
    envelope = _envelope(reply_to=None, list_unsubscribe=None)
    msg = _parsed(composer.compose(envelope, composer.render(StepKind.REMINDER, _context())))
    assert set(msg.keys()) == BASE_HEADERS - {"Reply-To", "List-Unsubscribe"}


def test_message_is_multipart_alternative_text_then_html(composer: Composer) -> None:
    rendered = composer.render(StepKind.OVERDUE, _context(client_name="Zoë"))
    raw = composer.compose(_envelope(), rendered)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    parts = list(msg.iter_parts())
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert [p["Content-Transfer-Encoding"] for p in parts] == ["quoted-printable"] * 2
    assert [p.get_content().replace("\r\n", "\n") for p in parts] == [rendered.text, rendered.html]
    assert max(raw) < 0x80  # 7-bit clean for any MTA
    assert b"\r\n" in raw
    assert raw.count(b"\n") == raw.count(b"\r\n")


def test_non_ascii_display_names_and_subject_are_encoded(composer: Composer) -> None:
    rendered = composer.render(StepKind.REMINDER, _context(action="Schreib Zoë über Ærø"))
    envelope = _envelope(to_name="Zoë Ærø", from_name="Ana Ñuñez")
    raw = composer.compose(envelope, rendered)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["To"] == "Zoë Ærø <sam@example.com>"
    assert msg["From"] == "Ana Ñuñez <coach@bright.example>"
    assert msg["Subject"] == "Your step: Schreib Zoë über Ærø"
    assert max(raw) < 0x80


@pytest.mark.parametrize("payload", INJECTIONS)
def test_client_text_cannot_add_headers_or_recipients(composer: Composer, payload: str) -> None:
    rendered = composer.render(
        StepKind.OVERDUE, _context(client_name=payload, action=payload, why=payload)
    )
    envelope = _envelope(seq=1, to_name=payload, from_name=payload)
    msg = _parsed(composer.compose(envelope, rendered))
    assert set(msg.keys()) == BASE_HEADERS | {"In-Reply-To", "References"}
    assert _recipients(msg) == ["sam@example.com"]
    assert msg["To"].addresses[0].display_name == one_line(payload, 200)
    assert msg["From"].addresses[0].addr_spec == "coach@bright.example"
    assert msg["Subject"] == f"Your step: {one_line(payload, 200)}"


def test_client_text_cannot_pose_as_an_encoded_word(composer: Composer) -> None:
    payload = "=?utf-8?q?=0D=0ABcc:_evil@x.com?="
    rendered = composer.render(StepKind.REMINDER, _context(action=payload))
    msg = _parsed(composer.compose(_envelope(to_name=payload), rendered))
    assert set(msg.keys()) == BASE_HEADERS
    assert _recipients(msg) == ["sam@example.com"]
    assert msg["To"].addresses[0].display_name == "= ?utf-8?q?=0D=0ABcc:_evil@x.com?="
    assert msg["Subject"] == "Your step: = ?utf-8?q?=0D=0ABcc:_evil@x.com?="


def test_bidi_and_zero_width_characters_leave_display_names(composer: Composer) -> None:
    envelope = _envelope(to_name="Sam\u202e\u200bmoc.live")
    msg = _parsed(composer.compose(envelope, composer.render(StepKind.REMINDER, _context())))
    assert msg["To"].addresses[0].display_name == "Sam moc.live"


@pytest.mark.parametrize(
    "address",
    [
        "sam@example.com\r\nBcc: evil@x.com",
        "sam@example.com\n",
        "sam@example.com, evil@x.com",
        "Sam <sam@example.com>",
        "<sam@example.com>",
        "sam@example.com\u2028",
        "sam example@example.com",
        '"sam"@example.com',
        "sam",
        "@example.com",
        "sam@",
        "sam@@example.com",
        "zoë@example.com",
        "a" * 250 + "@example.com",
    ],
)
def test_unsafe_to_address_is_refused_without_echoing_it(composer: Composer, address: str) -> None:
    rendered = composer.render(StepKind.REMINDER, _context())
    with pytest.raises(ComposeError) as excinfo:
        composer.compose(_envelope(to_address=address), rendered)
    assert excinfo.value.field == "To"
    assert str(excinfo.value) == "To: not a plain ASCII local@domain address"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"from_address": "coach@x.org\r\nBcc: evil@x.com"}, "From"),
        ({"reply_to": "reply+t@x.org, evil@x.com"}, "Reply-To"),
        ({"message_id": "<a@b>\r\nBcc: evil@x.com"}, "Message-ID"),
        ({"message_id": "no-brackets@x.org"}, "Message-ID"),
        ({"in_reply_to": "<a@b> <c@d>"}, "In-Reply-To"),
        ({"references": ("<a@b>", "<c@d>\nBcc: e@x.com")}, "References"),
        ({"list_unsubscribe": "<mailto:a@b>\r\nBcc: evil@x.com"}, "List-Unsubscribe"),
        ({"list_unsubscribe": "<mailto:a@b>\u2028"}, "List-Unsubscribe"),
        ({"date": datetime(2024, 12, 4, 9, 0)}, "Date"),  # naive on purpose
    ],
)
def test_unsafe_envelope_fields_are_refused(
    composer: Composer, overrides: dict[str, object], field: str
) -> None:
    rendered = composer.render(StepKind.REMINDER, _context())
    with pytest.raises(ComposeError) as excinfo:
        composer.compose(_envelope(0, **overrides), rendered)
    assert excinfo.value.field == field


def test_unsafe_subject_in_a_rendered_message_is_flattened(composer: Composer) -> None:
    rendered = RenderedMessage(subject="Hi\r\nBcc: evil@x.com", text="t\n", html="<p>t</p>\n")
    msg = _parsed(composer.compose(_envelope(), rendered))
    assert msg["Subject"] == "Hi Bcc: evil@x.com"
    assert msg["Bcc"] is None


# Coach-authored override templates.


def test_override_replaces_one_template_and_falls_back_for_the_rest(tmp_path: Path) -> None:
    _write(tmp_path, "reminder/subject.txt", "Coming up: {{ action }}\n")
    composer = Composer(tmp_path)
    default = Composer()
    reminder = composer.render(StepKind.REMINDER, _context())
    assert reminder.subject == "Coming up: Call three former colleagues about the role"
    assert reminder.text == default.render(StepKind.REMINDER, _context()).text
    assert composer.render(StepKind.OVERDUE, _context()) == default.render(
        StepKind.OVERDUE, _context()
    )


def test_override_body_can_extend_the_built_in_layout(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "reflection/body.txt",
        '{% extends "_layout/base.txt" %}{% block body %}Well done, truly.\n{% endblock %}',
    )
    text = Composer(tmp_path).render(StepKind.REFLECTION, _context()).text
    assert text.startswith("Hi Sam,\n\nWell done, truly.\n")
    assert "your coach Ana reads every reply." in text


def test_override_html_still_autoescapes(tmp_path: Path) -> None:
    _write(tmp_path, "reminder/body.html", "<p>{{ action }}</p>")
    html = Composer(tmp_path).render(StepKind.REMINDER, _context(action="<img src=x>")).html
    assert html == "<p>&lt;img src=x&gt;</p>"


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ self._TemplateReference__context }}",
        "{{ lipsum.__globals__['os'].popen('id').read() }}",
        "{{ '{0.__class__}'.format(action) }}",
        "{{ action.__class__.__base__ }}",
        "{{ questions.append('x') }}",
        "{{ namespace.__init__ }}",
    ],
)
def test_sandbox_escapes_in_override_templates_are_refused(tmp_path: Path, source: str) -> None:
    _write(tmp_path, "reminder/body.txt", source)
    composer = Composer(tmp_path)
    with pytest.raises(SecurityError, match="is unsafe"):
        composer.render(StepKind.REMINDER, _context())


@pytest.mark.parametrize(
    "source",
    [
        "{% include '/etc/passwd' %}",
        "{% include '../../../../../../etc/passwd' %}",
        "{% include 'etc/passwd' %}",
        "{% extends '/etc/passwd' %}",
        "{% import '/etc/hostname' as h %}",
    ],
)
def test_override_templates_cannot_read_files_outside_the_template_dirs(
    tmp_path: Path, source: str
) -> None:
    _write(tmp_path, "reminder/body.txt", source)
    composer = Composer(tmp_path)
    with pytest.raises(TemplateNotFound):
        composer.render(StepKind.REMINDER, _context())


def test_broken_override_template_fails_when_the_composer_is_built(tmp_path: Path) -> None:
    _write(tmp_path, "overdue/body.txt", "{% if %}")
    with pytest.raises(TemplateSyntaxError):
        Composer(tmp_path)


def test_override_dir_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ComposeError) as excinfo:
        Composer(tmp_path / "missing")
    assert excinfo.value.field == "override_dir"


@pytest.mark.parametrize(
    ("lang", "understood", "said", "undo"),
    [
        ("en", "due", "Got it: new date Friday 4 December.", "just reply “undo”"),
        ("en", "stop", "Got it: no more emails about this.", "just reply “undo”"),
        ("de", "done", "Verstanden: erledigt.", "„rückgängig“"),
        ("fr", "pause", "C’est noté : pause jusqu’au lundi 14 décembre.", "« annuler »"),
        ("es", "undo", "Entendido: he deshecho el último cambio.", "«deshacer»"),
        ("pt", "due", "Entendido: nova data, Friday 4 December.", "“desfazer”"),
    ],
)
def test_a_confirmation_says_what_was_understood_and_how_to_undo_it(
    lang: str, understood: str, said: str, undo: str
) -> None:
    context = _context(lang=lang, understood=understood, pause_until="lundi 14 décembre")
    rendered = Composer().render(StepKind.ACK, context)
    assert said in rendered.text
    assert undo in rendered.text
    assert "Ana" in rendered.text.split(undo)[1]  # the coach reads every reply
    assert undo.replace('"', "&#34;") in rendered.html or undo in rendered.html
