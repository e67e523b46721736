"""Turn an HTML email body into plain text, dropping scripts, styles and quoted history."""

from __future__ import annotations

import re
from html.parser import HTMLParser

MAX_HTML_CHARS = 512 * 1024

# Elements whose content is never text for a reader.
_SKIPPED = frozenset({"script", "style", "head", "title", "template", "noscript", "svg", "object"})
_VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "wbr"})
_BLOCKS = frozenset(
    {"p", "div", "br", "tr", "li", "ul", "ol", "table", "pre", "hr", "h1", "h2", "h3", "h4"}
)
# Where the major clients put the quoted history (and Gmail its signature): text stops here.
_HISTORY_CLASSES = frozenset(
    {
        "gmail_quote",
        "gmail_attr",
        "yahoo_quoted",
        "moz-cite-prefix",
        "ms-outlook-mobile-reference-message",
    }
)
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


class _TextCollector(HTMLParser):
    """Collects visible text until the first quoted-history marker; never runs anything."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.stopped = False
        self._skip_depth = 0
        self._skip_stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.stopped:
            return
        tag = tag.lower()
        if self._skip_stack:
            if tag not in _VOID:
                self._skip_stack.append(tag)
            return
        fields = {name.lower(): (value or "") for name, value in attrs}
        classes = set(fields.get("class", "").lower().split())
        element_id = fields.get("id", "").lower()
        if _is_history(tag, fields, classes, element_id):
            self.stopped = True
            return
        if tag in _SKIPPED or classes & _SIGNATURE_CLASSES or element_id in _SIGNATURE_IDS:
            if tag not in _VOID:
                self._skip_stack.append(tag)
            return
        if tag in _BLOCKS:
            self.chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self.stopped:
            return
        if self._skip_stack:
            self._skip_stack.pop()
            return
        if tag.lower() in _BLOCKS:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.stopped and not self._skip_stack:
            self.chunks.append(data)


def _is_history(tag: str, fields: dict[str, str], classes: set[str], element_id: str) -> bool:
    if tag == "blockquote" and (
        fields.get("type", "").lower() == "cite" or "gmail_quote" in classes
    ):
        return True
    if classes & _HISTORY_CLASSES or element_id in _HISTORY_IDS:
        return True
    return tag == "div" and bool(_OUTLOOK_BORDER.search(fields.get("style", "")))


def html_to_text(html: str) -> str:
    """Visible text of an HTML email's new part; history after a client's quote marker is gone."""
    collector = _TextCollector()
    try:
        collector.feed(html[:MAX_HTML_CHARS])
        collector.close()
    except (AssertionError, ValueError, IndexError):
        pass  # malformed markup: keep whatever text was collected before it
    text = "".join(collector.chunks).replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
