"""Reply-text cases from other projects' fixtures, with expectations taken from their own tests.

- mailgun/talon: tests/fixtures/standard_replies/*.eml, expected `<name>_reply_text` or "Hello"
  (tests/text_quotations_test.py::test_standard_replies); html_replies/*.html, expected
  "Hi. I am fine.\\n\\nThanks,\\nAlex" (tests/html_quotations_test.py::extract_reply_and_check);
  two top-level HTML fixtures asserted in html_quotations_test.py.
- github/email_reply_parser: test/emails/*.txt; the visible fragments its Ruby tests assert
  (test/email_reply_parser_test.rb), written here as line ranges of each fixture.
- alfonsrv/mail-parser-reply: test/emails/*.txt; the assertions of test/test_email_reply_parser.py,
  read with `ast` (never imported or run).

coachd's contract (tests/jobs/reading/people/CORPUS_FORMAT.md) also drops signatures, sign-offs,
mobile footers and the separator line above a quote header, which some of these projects keep:
`expected` is the text under coachd's contract, `upstream` the project's own literal where it
differs.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from bench.score import normalise

_COACH_ADDRESS = "reply+fixturefixturefixture234@reply.coachd.example"


@dataclass(frozen=True, slots=True)
class TextCase:
    corpus: str
    name: str
    lang: str
    raw: bytes
    source: str  # the upstream test the expectation comes from
    expected: str | None = None  # exact clean text under coachd's contract
    upstream: str | None = None  # the project's own exact text (defaults to `expected`)
    contains: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()


def wrap(name: str, body: bytes, subtype: str = "plain") -> bytes:
    """A bare body (what these fixtures are) as a reply to coachd, for `read_reply`."""
    head = (
        f"From: Fixture Sender <sender@fixture.invalid>\n"
        f'To: "Coach (coach)" <{_COACH_ADDRESS}>\n'
        f"Subject: Re: {name}\nDate: Mon, 16 Nov 2026 10:00:00 +0000\n"
        f"Message-ID: <{name}@fixture.invalid>\nMIME-Version: 1.0\n"
        f"Content-Type: text/{subtype}; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
    )
    return head.encode() + body


# ---- mailgun/talon ---------------------------------------------------------------------------
TALON_DIR = "talon/tests/fixtures"
TALON_HTML_REPLY = "Hi. I am fine.\n\nThanks,\nAlex"
TALON_HTML_SINGLES = {  # tests/html_quotations_test.py
    "OLK_SRC_BODY_SECTION.html": ("test_OLK_SRC_BODY_SECTION_stripped", "Reply"),
    "reply-separated-by-hr.html": ("test_reply_separated_by_hr", "Hi there"),
}
TALON_CONTRACT = {  # talon keeps these trailers; coachd's contract removes them
    "iphone": "Hello",  # mobile footer "Sent from my iPhone"
    "sparrow": "Hello",  # "-- " signature and "Sent with Sparrow"
    "html_replies": "Hi. I am fine.",  # sign-off "Thanks," and the name "Alex"
}


def load_talon(root: Path) -> list[TextCase]:
    base = root / TALON_DIR
    cases = []
    for eml in sorted((base / "standard_replies").glob("*.eml")):
        reply = eml.with_name(f"{eml.stem}_reply_text")
        upstream = reply.read_text(encoding="utf-8").strip() if reply.is_file() else "Hello"
        expected = TALON_CONTRACT.get(eml.stem, upstream)
        source = "text_quotations_test.py::test_standard_replies"
        cases.append(
            TextCase("talon", eml.stem, "en", eml.read_bytes(), source, expected, upstream)
        )
    source = "html_quotations_test.py::extract_reply_and_check"
    for html in sorted((base / "html_replies").glob("*.html")):
        raw = wrap(html.stem, html.read_bytes(), "html")
        expected = TALON_CONTRACT["html_replies"]
        cases.append(TextCase("talon", html.name, "en", raw, source, expected, TALON_HTML_REPLY))
    for name, (test, text) in TALON_HTML_SINGLES.items():
        if (base / name).is_file():
            raw = wrap(name, (base / name).read_bytes(), "html")
            cases.append(
                TextCase("talon", name, "en", raw, f"html_quotations_test.py::{test}", text)
            )
    return cases


# ---- github/email_reply_parser -----------------------------------------------------------------
ERP_DIR = "email_reply_parser/test/emails"
# fixture -> (test asserting it, 1-based inclusive line ranges of the client's words); ranges
# are joined by a blank line. Visible = not hidden per the test's flags, minus quoted fragments.
ERP_VISIBLE: dict[str, tuple[str, tuple[tuple[int, int], ...]]] = {
    "correct_sig": ("test_reads_email_with_correct_signature", ((1, 1),)),
    "email_1_1": ("test_reads_simple_body", ((1, 5),)),
    "email_1_2": ("test_reads_bottom_post", ((1, 1), (9, 34))),
    "email_1_3": ("test_reads_top_post", ((1, 3),)),
    "email_1_4": ("test_recognizes_date_string_above_quote", ((1, 1),)),
    "email_1_5": ("test_a_complex_body_with_only_one_fragment", ((1, 15),)),
    "email_1_6": ("test_deals_with_multiline_reply_headers", ((1, 1),)),
    "email_1_7": ("test_deals_with_windows_line_endings", ((1, 1),)),
    "email_1_8": ("test_reads_inline_replies", ((13, 13), (19, 19))),
    "email_2_1": ("test_parse_out_just_top_for_outlook_reply", ((1, 1),)),
    "email_2_2": ("test_parse_out_just_top_for_outlook_with_reply_directly_above_line", ((1, 1),)),
    "email_2_3": ("test_parse_out_just_top_for_outlook_with_no_line", ((1, 1),)),
    "email_BlackBerry": ("test_parse_out_sent_from_BlackBerry", ((1, 1),)),
    "email_bullets": ("test_retains_bullets", ((1, 9),)),
    "email_iPhone": ("test_parse_out_sent_from_iPhone", ((1, 1),)),
    "email_multi_word_sent_from_my_mobile_device": (
        "test_parse_out_send_from_multiword_mobile_device", ((1, 1),)),
    "email_one_is_not_on": ("test_one_is_not_on", ((1, 5),)),
    "email_sent_from_my_not_signature": (
        "test_do_not_parse_out_send_from_in_regular_sentence", ((1, 3),)),
    "email_sig_delimiter_in_middle_of_line": (
        "test_doesnt_remove_signature_delimiter_in_mid_line", ((1, 7),)),
    "greedy_on": ("test_mulitple_on", ((1, 6),)),
}  # fmt: skip
# Where the library's own visible text differs from coachd's contract.
ERP_UPSTREAM = {
    "email_1_2": ((1, 34),),  # its visible text keeps the quote between the two passages
    "email_1_6": ((1, 3),),  # keeps the custom mobile footer "Sent from a magnificent torch…"
}
ERP_TIMING_ONLY = {"email_long_quote", "pathological"}  # their tests assert only < 1 s


def load_email_reply_parser(root: Path) -> list[TextCase]:
    cases = []
    for txt in sorted((root / ERP_DIR).glob("*.txt")):
        lines = txt.read_text(encoding="utf-8").splitlines()
        raw = wrap(txt.stem, txt.read_bytes())
        if txt.stem in ERP_TIMING_ONLY:
            cases.append(TextCase("email_reply_parser", txt.stem, "en", raw, "timing only"))
        elif txt.stem in ERP_VISIBLE:
            test, ranges = ERP_VISIBLE[txt.stem]
            upstream = _pick(lines, ERP_UPSTREAM.get(txt.stem, ranges))
            case = TextCase(
                "email_reply_parser", txt.stem, "en", raw, test, _pick(lines, ranges), upstream
            )
            cases.append(case)
    return cases


def _pick(lines: list[str], ranges: tuple[tuple[int, int], ...]) -> str:
    return "\n\n".join("\n".join(lines[start - 1 : end]) for start, end in ranges)


# ---- alfonsrv/mail-parser-reply ----------------------------------------------------------------
MPR_DIR = "mail-parser-reply/test"
_SEPARATOR_TAIL = re.compile(r"\n\s*[-_=]{5,}\s*$")  # a rule line above a quote header


def load_mail_parser_reply(root: Path) -> list[TextCase]:
    test_file = root / MPR_DIR / "test_email_reply_parser.py"
    if not test_file.is_file():
        return []
    cases = []
    for name, (lang, tests, asserts) in _mpr_assertions(test_file.read_text("utf-8")).items():
        fixture = root / MPR_DIR / "emails" / f"{name}.txt"
        if fixture.is_file():
            body = fixture.read_bytes()
            cases.append(_mpr_case(name, lang, ", ".join(tests), body, asserts))
    return cases


Assertion = tuple[str, str, int, str]  # (literal, op: == | in | not in, reply index, attribute)


def _mpr_case(name: str, lang: str, source: str, body: bytes, asserts: list[Assertion]) -> TextCase:
    """coachd expectations from the library's: reply 0's body is the client's words; its
    signature and headers, and what only the older replies contain, must not show."""
    flat = normalise(body.decode("utf-8", "replace"))
    exact = next((lit for lit, op, i, attr in asserts if (op, i, attr) == ("==", 0, "body")), None)
    contains = tuple(lit for lit, op, i, attr in asserts if (op, i, attr) == ("in", 0, "body"))
    excludes = tuple(
        dict.fromkeys(
            lit
            for lit, op, i, attr in asserts
            if (i == 0 and attr in {"signatures", "headers"} and op == "in")
            or (i == 0 and attr == "body" and op == "not in")
            or (i > 0 and op in {"in", "=="} and flat.count(normalise(lit)) == 1)
        )
    )
    expected = _SEPARATOR_TAIL.sub("", exact) if exact is not None else None
    return TextCase(
        "mail-parser-reply", name, lang, wrap(name, body), source, expected, exact,
        contains, excludes,
    )  # fmt: skip


def _mpr_assertions(source: str) -> dict[str, tuple[str, list[str], list[Assertion]]]:
    """fixture -> (language, tests, assertions about mail.replies[i]) from the test module."""
    found: dict[str, tuple[str, list[str], list[Assertion]]] = {}
    for func in ast.walk(ast.parse(source)):
        if not (isinstance(func, ast.FunctionDef) and func.name.startswith("test_")):
            continue
        fixture = _mpr_fixture(func)
        if fixture is None:
            continue
        name, lang = fixture
        entry = found.setdefault(name, (lang, [], []))
        entry[1].append(func.name)
        entry[2].extend(a for node in ast.walk(func) if (a := _mpr_assert(node)) is not None)
    return found


def _mpr_fixture(func: ast.FunctionDef) -> tuple[str, str] | None:
    """The fixture of `self.get_email(name, parse=True, languages=[...])`, and its language."""
    for node in ast.walk(func):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr != "get_email" or not node.args:
            continue
        words = {k.arg: k.value for k in node.keywords}
        parse = words.get("parse")
        if isinstance(parse, ast.Constant) and parse.value is False:
            return None
        langs = words.get("languages")
        lang = "en"
        if isinstance(langs, ast.List) and langs.elts and isinstance(langs.elts[0], ast.Constant):
            lang = str(langs.elts[0].value)
        first = node.args[0]
        return (str(first.value), lang) if isinstance(first, ast.Constant) else None
    return None


def _mpr_assert(node: ast.AST) -> Assertion | None:
    """assertTrue(lit == / in / not in mail.replies[i].attr), assertIn / assertNotIn(lit, …),
    assertTrue(mail.replies[i].attr.startswith(lit))."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    method, args = node.func.attr, node.args
    if method in {"assertIn", "assertNotIn"} and len(args) == 2:
        return _mpr_fact(args[0], "in" if method == "assertIn" else "not in", args[1])
    if method != "assertTrue" or not args:
        return None
    test = args[0]
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        ops = {ast.Eq: "==", ast.In: "in", ast.NotIn: "not in"}
        op = ops.get(type(test.ops[0]))
        return _mpr_fact(test.left, op, test.comparators[0]) if op else None
    if (
        isinstance(test, ast.Call)
        and isinstance(test.func, ast.Attribute)
        and test.func.attr == "startswith"
        and test.args
    ):
        return _mpr_fact(test.args[0], "in", test.func.value)
    return None


def _mpr_fact(literal: ast.expr, op: str, target: ast.expr) -> Assertion | None:
    """(literal, op, i, attr) when target is `mail.replies[i].attr` and literal a non-empty str."""
    if not (isinstance(literal, ast.Constant) and isinstance(literal.value, str) and literal.value):
        return None
    if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Subscript)):
        return None
    index = target.value.slice
    if not (isinstance(index, ast.Constant) and isinstance(index.value, int)):
        return None
    return literal.value, op, index.value, target.attr
