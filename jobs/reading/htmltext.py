"""Turn an HTML email body into plain text without scripts, styles, signatures or quotes."""

from __future__ import annotations

import re
from html.parser import HTMLParser

MAX_HTML_CHARS = 512 * 1024
# HTMLParser costs about a microsecond per character of dense markup, however little text it
# holds: the parse stops after this many start tags (a long thread's Outlook HTML has a few
# thousand), so 5 MB of nested divs costs the same as a long honest reply.
MAX_TAGS = 20_000
FEED_CHARS = 16 * 1024  # fed piece by piece, so a history marker or the tag cap ends the work
# Where a quoted subtree was: a line the text reader takes for quoted history, so the client's
# passages on either side of it stay apart (bottom-posted and interleaved replies).
QUOTE_MARK = ">"

# Elements whose content is never text for a reader.
_SKIPPED = frozenset({"script", "style", "head", "title", "template", "noscript", "svg", "object"})
_VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "wbr"})
_BLOCKS = frozenset(
    {"p", "div", "br", "tr", "li", "ul", "ol", "table", "pre", "hr", "h1", "h2", "h3", "h4"}
)
# Quoted subtrees and their attributions (Gmail, Thunderbird): skipped, what follows is read.
_QUOTE_CLASSES = frozenset({"gmail_attr", "moz-cite-prefix", "yahoo_quoted"})
_YAHOO_QUOTED = "yahoo_quoted"  # Yahoo prefixes its classes: "ydp3f2e1a9byahoo_quoted"
# Outlook's markers: everything below them is the thread's history, so the text stops there.
_HISTORY_CLASSES = frozenset({"ms-outlook-mobile-reference-message"})
_HISTORY_IDS = frozenset(
    {
        "divrplyfwdmsg",
        "appendonsend",
        "olk_src_body_section",
        "mail-editor-reference-message-container",
    }
)
_SIGNATURE_CLASSES = frozenset({"gmail_signature", "moz-signature"})
_SIGNATURE_IDS = frozenset({"signature", "ms-outlook-mobile-signature"})
# Outlook desktop's separator: a div with only a top border, right before "From: … Sent: …".
_OUTLOOK_BORDER = re.compile(
    r"border-top\s*:\s*solid\s+#e1e1e1|border-top\s*:\s*solid\s+#b5c4df", re.I
)
# Gmail's "indent" button wraps the client's own words in a borderless blockquote.
_INDENT_ONLY = re.compile(r"border\s*:\s*none", re.I)


class _Element:
    """What the collector needs of a start tag: its name, classes, id, type and style."""

    __slots__ = ("classes", "element_id", "style", "tag", "type")

    def __init__(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        fields = {name.lower(): (value or "") for name, value in attrs}
        self.tag = tag
        self.classes = frozenset(fields.get("class", "").lower().split())
        self.element_id = fields.get("id", "").lower()
        self.type = fields.get("type", "").lower()
        self.style = fields.get("style", "")


def _is_history(element: _Element) -> bool:
    if element.classes & _HISTORY_CLASSES or element.element_id in _HISTORY_IDS:
        return True
    return element.tag == "div" and bool(_OUTLOOK_BORDER.search(element.style))


def _is_quote(element: _Element) -> bool:
    if element.tag == "blockquote":
        return element.type == "cite" or not _INDENT_ONLY.search(element.style)
    if element.classes & _QUOTE_CLASSES:
        return True
    return any(name.endswith(_YAHOO_QUOTED) for name in element.classes)


def _is_hidden(element: _Element) -> bool:
    if element.tag in _SKIPPED or element.classes & _SIGNATURE_CLASSES:
        return True
    return element.element_id in _SIGNATURE_IDS


class _TextCollector(HTMLParser):
    """Collects visible text, skipping quoted and hidden subtrees, until Outlook's history
    marker or the tag cap; never runs anything."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.stopped = False
        self._tags = 0
        self._skip_tag: str | None = None  # the element whose subtree is being skipped …
        self._skip_depth = 0  # … and how many of its name are open inside it

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tags += 1
        if self._tags > MAX_TAGS:
            self.stopped = True
        if self.stopped:
            return
        tag = tag.lower()
        if self._skip_tag is not None:
            self._nest(tag)
            return
        element = _Element(tag, attrs)
        if _is_history(element):
            self.stopped = True
        elif _is_quote(element):
            self.chunks.append(f"\n{QUOTE_MARK}\n")
            self._skip(tag)
        elif _is_hidden(element):
            self._skip(tag)
        elif tag in _BLOCKS:
            self.chunks.append("\n")

    def _skip(self, tag: str) -> None:
        if tag not in _VOID:
            self._skip_tag, self._skip_depth = tag, 1

    def _nest(self, tag: str) -> None:
        if tag == self._skip_tag:
            self._skip_depth += 1
        elif tag == "body" and self._skip_tag == "head":  # "<head>" never closed
            self._skip_tag = None

    def handle_endtag(self, tag: str) -> None:
        if self.stopped:
            return
        tag = tag.lower()
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_depth -= 1
                if not self._skip_depth:
                    self._skip_tag = None
            return
        if tag in _BLOCKS:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.stopped and self._skip_tag is None:
            self.chunks.append(data)


def html_to_text(html: str) -> str:
    """Visible text of an HTML email's new parts: each quoted subtree becomes one ">" line
    between the client's passages (none after the last), and Outlook's history is gone."""
    collector = _TextCollector()
    html = html[:MAX_HTML_CHARS]
    try:
        for start in range(0, len(html), FEED_CHARS):
            if collector.stopped:
                break
            collector.feed(html[start : start + FEED_CHARS])
        collector.close()
    except (AssertionError, ValueError, IndexError):
        pass  # malformed markup: keep whatever text was collected before it
    text = "".join(collector.chunks).replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    while lines and lines[-1] in {"", QUOTE_MARK}:
        lines.pop()  # a quote with nothing after it: the text ends as it did before it
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
