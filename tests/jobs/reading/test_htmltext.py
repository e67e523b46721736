"""HTML bodies: quoted subtrees are skipped (the client's words around them stay), Outlook's
history ends the text, signatures and hidden elements are dropped, and a plain part wins."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from jobs.reading.htmltext import MAX_TAGS, html_to_text
from jobs.reading.text import body_text, new_words

GMAIL_QUOTE = (
    '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Tue, 3 Nov 2026 at 09:00,'
    " Ana &lt;ana@coach.example&gt; wrote:<br></div>"
    '<blockquote class="gmail_quote" style="margin:0 0 0 .8ex;border-left:1px #ccc solid">'
    "<div>Did you water the tomatoes?</div></blockquote></div>"
)


def _words(html: str) -> str:
    return new_words(html_to_text(html))


def test_gmail_top_posted_reply_keeps_only_the_answer() -> None:
    """A Gmail answer above its quote: the attribution and the quote are gone."""
    html = f'<div dir="ltr">Watered them this morning.</div><br>{GMAIL_QUOTE}'
    assert html_to_text(html) == "Watered them this morning."


def test_gmail_bottom_posted_words_after_the_quote_stay() -> None:
    """Words typed under Gmail's quote are the client's and are read."""
    html = f"{GMAIL_QUOTE}<div>Yes, both rows, before work.</div>"
    assert _words(html) == "Yes, both rows, before work."


def test_gmail_interleaved_answers_inside_the_quote_container_stay() -> None:
    """Answers typed between two blockquotes of one gmail_quote div are both kept."""
    html = (
        '<div class="gmail_quote"><div class="gmail_attr">On Tue, 3 Nov 2026 at 09:00, Ana'
        " &lt;ana@coach.example&gt; wrote:</div>"
        '<blockquote class="gmail_quote">Did you water the tomatoes?</blockquote>'
        "<div>Yes, at seven.</div>"
        '<blockquote class="gmail_quote">And the beans?</blockquote>'
        "<div>Not yet, tomorrow.</div></div>"
    )
    assert _words(html) == "Yes, at seven.\n\nNot yet, tomorrow."


def test_apple_mail_cite_blockquote_is_skipped_and_text_after_it_kept() -> None:
    """Apple Mail puts the attribution inside blockquote type="cite"; text after it stays."""
    html = (
        '<div>Booked the dentist.</div><div><br><blockquote type="cite"><div>On 3 Nov 2026,'
        " at 09:00, Ana &lt;ana@coach.example&gt; wrote:</div><div>Any news?</div>"
        "</blockquote></div><div>Also paid the bill.</div>"
    )
    assert _words(html) == "Booked the dentist.\n\nAlso paid the bill."


def test_thunderbird_cite_prefix_and_blockquote_are_skipped() -> None:
    """Thunderbird's moz-cite-prefix attribution and unquoted type=cite are skipped."""
    html = (
        '<div class="moz-cite-prefix">Am 03.11.2026 um 09:00 schrieb Ana:<br></div>'
        "<blockquote type=cite>Wie läuft es?</blockquote><p>Gut, fast fertig.</p>"
    )
    assert _words(html) == "Gut, fast fertig."


def test_yahoo_quoted_with_prefixed_class_is_skipped() -> None:
    """Yahoo's quote div (class prefixed "ydp…yahoo_quoted") is skipped, later text kept."""
    html = (
        "<div>Hecho.</div>"
        '<div id="ydp1a2byahoo_quoted_77" class="ydp1a2byahoo_quoted">'
        "<div>El martes, Ana escribió:</div><div><div>¿Qué tal?</div></div></div>"
        "<div>Y mañana sigo.</div>"
    )
    assert html_to_text(html) == "Hecho.\n\n>\n\nY mañana sigo."


def test_generic_blockquote_is_history_but_gmail_indent_is_not() -> None:
    """A plain blockquote is quoted history; Gmail's borderless indent holds the client's text."""
    html = (
        "<blockquote>Old words</blockquote>"
        '<blockquote style="margin:0 0 0 40px;border:none;padding:0px">My list</blockquote>'
    )
    assert html_to_text(html) == ">\nMy list"


@pytest.mark.parametrize(
    "marker",
    [
        '<div id="divRplyFwdMsg">',
        '<div id="appendonsend"></div><div>',
        '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0 0 0">',
        '<div class="ms-outlook-mobile-reference-message">',
    ],
    ids=["divRplyFwdMsg", "appendonsend", "border_top", "mobile_reference"],
)
def test_outlook_markers_end_the_text(marker: str) -> None:
    """Outlook's separators mean everything below is history, even unquoted-looking text."""
    html = f"<div>Sent the form.</div>{marker}<b>From:</b> Ana<br>Please send it</div>"
    assert html_to_text(html) == "Sent the form."


@pytest.mark.parametrize(
    "signature",
    [
        '<div class="gmail_signature">Lena Ortiz | 555 0100</div>',
        '<div class="moz-signature">Lena<div>Ortiz</div> Ltd</div>',
        '<div id="Signature"><p>Lena Ortiz</p></div>',
        '<div id="ms-outlook-mobile-signature">Get the app</div>',
    ],
    ids=["gmail", "thunderbird", "outlook", "outlook_mobile"],
)
def test_signature_containers_are_skipped(signature: str) -> None:
    """Signature containers are dropped whole, nested divs included."""
    assert html_to_text(f"<div>Done.</div>{signature}<div>P.S. thanks</div>") == (
        "Done.\n\nP.S. thanks"
    )


def test_scripts_styles_and_unclosed_head_are_not_text() -> None:
    """Script, style and a head that is never closed contribute no text."""
    html = "<head><title>T</title><style>p{}</style><body><script>x()</script><p>Hi</p>"
    assert html_to_text(html) == "Hi"


def test_tag_cap_keeps_the_text_before_it() -> None:
    """Past MAX_TAGS start tags the parse stops; what was read before stays."""
    html = "<p>Early words</p>" + "<span>" * (MAX_TAGS + 10) + "late"
    assert html_to_text(html) == "Early words"


def _message(plain: str | None, html: str) -> EmailMessage:
    message = EmailMessage()
    if plain is None:
        message.set_content(html, subtype="html")
    else:
        message.set_content(plain)
        message.add_alternative(html, subtype="html")
    return message


def test_plain_part_is_preferred_over_html() -> None:
    """With both parts, body_text reads the plain one, as it did before."""
    assert body_text(_message("From plain\n", "<p>From html</p>")) == ("plain", "From plain\n")


def test_html_is_read_when_plain_part_is_blank() -> None:
    """An empty plain part falls back to the HTML one."""
    assert body_text(_message(" \n", "<p>From html</p>")) == ("html", "From html")


def test_html_only_message_reads_the_html() -> None:
    """A message with only an HTML part is read through html_to_text."""
    assert body_text(_message(None, f"<p>Only html</p>{GMAIL_QUOTE}")) == ("html", "Only html")
