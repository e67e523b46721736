"""Extract only the client's new words from a reply: no quoted history, signature or disclaimer."""

from __future__ import annotations

import re
from email.message import Message

from mailparser_reply import EmailReplyParser

from jobs.reading.htmltext import html_to_text
from jobs.reading.parts import MAX_TEXT_CHARS, content_type, is_attachment, part_text, walk

# mail-parser-reply knows these of our languages (not Portuguese: our own rules cover it).
PARSER_LANGUAGES = ["en", "de", "es", "fr"]
MAX_PARSER_CHARS = 64 * 1024  # its regexes backtrack on long input; new words come first
MAX_HEADER_BLOCK_LINES = 5
MAX_WROTE_LINES = 3

_WROTE = re.compile(
    r"^(?:On\s.+wrote|El\s.+escribi[óo]|Am\s.+schrieb.*|Le\s.+a\s+[ée]crit|Em\s.+escreveu|"
    r"Op\s.+schreef|Il\s.+ha\s+scritto)\s*:\s*$",
    re.IGNORECASE | re.DOTALL,
)
_SEPARATOR = re.compile(
    r"^\s*(?:-{2,}\s*(?:Original\s+Message|Mensaje\s+original|Urspr[üu]ngliche\s+Nachricht|"
    r"Message\s+d'origine|Mensagem\s+original|Forwarded\s+message|Mensaje\s+reenviado|"
    r"Weitergeleitete\s+Nachricht|Message\s+transf[ée]r[ée]|Mensagem\s+encaminhada)\s*-{2,}|"
    r"_{10,}|Begin\s+forwarded\s+message:)\s*$",
    re.IGNORECASE,
)
_FROM_LINE = re.compile(r"^\s*\*?(?:From|De|Von|Da|Van)\s*:\*?\s*\S", re.IGNORECASE)
_HEADER_LINE = re.compile(
    r"^\s*\*?(?:Sent|Date|To|Subject|Enviado|Fecha|Para|Asunto|Gesendet|Datum|An|Betreff|"
    r"Envoy[ée]|[ÀA]|Objet|Data|Assunto|Cc)\s*:\*?",
    re.IGNORECASE,
)
_PHONE_SIGNATURE = re.compile(
    r"^\s*(?:Sent\s+from\s+(?:my\s+|Yahoo\s+Mail|Mail\s+for\s+Windows|Outlook)|Sent\s+via\s|"
    r"Sent\s+with\s|Get\s+Outlook\s+for|Enviado\s+desde\s+(?:mi|Yahoo|Outlook|Correo)|"
    r"Obtener\s+Outlook\s+para|Von\s+meinem\s|Gesendet\s+(?:von|mit|vom)\s|"
    r"Holen\s+Sie\s+sich\s+Outlook|Envoy[ée]\s+(?:de|depuis)\s+(?:mon|Yahoo|Outlook|l'application)|"
    r"T[ée]l[ée]charger\s+Outlook|Enviado\s+do\s+(?:meu|Yahoo|Outlook)|Baixe\s+o\s+Outlook|"
    r"Obter\s+o\s+Outlook)",
    re.IGNORECASE,
)
_SIGNATURE_DELIMITER = re.compile(r"^--\s*$")
# NUL and other control characters (but tab and line breaks), and the bidi embeddings and
# overrides that reorder what a reader sees: never words, and kept out of the coach's email.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_DISCLAIMER = re.compile(
    r"^\s*(?:\**\s*(?:CONFIDENTIALITY\s+NOTICE|DISCLAIMER|AVISO\s+LEGAL|HAFTUNGSAUSSCHLUSS)|"
    r"(?:This|The\s+information\s+in\s+this)\s+(?:e-?mail|message|communication)\b.{0,80}\b"
    r"(?:confidential|privileged|intended\s+(?:only|solely))|"
    r"Este\s+(?:correo|mensaje|e-?mail)\b.{0,80}\bconfidencial|"
    r"Diese\s+(?:E-?Mail|Nachricht)\b.{0,80}\bvertraulich|"
    r"Ce\s+(?:message|courriel|e-?mail)\b.{0,80}\bconfidenti|"
    r"Esta\s+mensagem\b.{0,80}\bconfidenc|Este\s+e-?mail\b.{0,80}\bconfidenc)",
    re.IGNORECASE,
)


def body_text(message: Message) -> tuple[str, str]:
    """The message's readable body and where it came from: ("plain"|"html"|"none", text)."""
    html: str | None = None
    for part in walk(message):
        kind = content_type(part)
        if is_attachment(part) or kind not in {"text/plain", "text/html"}:
            continue
        if kind == "text/plain":
            text = part_text(part)
            if text.strip():
                return "plain", text
        elif html is None:
            html = part_text(part)
    if html is not None:
        return "html", html_to_text(html)
    return "none", ""


def new_words(text: str) -> str:
    """Only what the client wrote this time: history, signature, phone line, disclaimer removed."""
    text = _INVISIBLE.sub("", text[:MAX_TEXT_CHARS])
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = _cut_lines(lines, _history_start(lines))
    text = _parser_reply("\n".join(lines))
    lines = [line for line in text.split("\n") if not line.lstrip().startswith(">")]
    lines = _cut_lines(lines, _signature_start(lines))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in lines)).strip()


def _cut_lines(lines: list[str], index: int | None) -> list[str]:
    return lines if index is None else lines[:index]


def _history_start(lines: list[str]) -> int | None:
    """The first line of quoted history: a "wrote:" header, a separator, or a From/Sent block."""
    for index, line in enumerate(lines):
        if _SEPARATOR.match(line) or _is_header_block(lines, index):
            return index
        for end in range(MAX_WROTE_LINES, 0, -1):
            candidate = " ".join(item.strip() for item in lines[index : index + end])
            if candidate and _WROTE.match(candidate.lstrip("> ")):
                return index
    return None


def _is_header_block(lines: list[str], index: int) -> bool:
    if not _FROM_LINE.match(lines[index].lstrip("> ")):
        return False
    following = lines[index + 1 : index + MAX_HEADER_BLOCK_LINES]
    return any(_HEADER_LINE.match(line.lstrip("> ")) for line in following)


def _signature_start(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        stripped = line.strip()
        if index > 0 and _SIGNATURE_DELIMITER.match(stripped):
            return index
        if _PHONE_SIGNATURE.match(stripped) or _DISCLAIMER.match(stripped):
            return index
    return None


def _parser_reply(text: str) -> str:
    """mail-parser-reply's latest reply, for the header styles our own rules do not know."""
    head, tail = text[:MAX_PARSER_CHARS], text[MAX_PARSER_CHARS:]
    try:
        parsed = EmailReplyParser(languages=list(PARSER_LANGUAGES)).read(head)
        reply: str | None = parsed.latest_reply
    except (re.error, ValueError, IndexError, RecursionError):
        return text
    if reply is None or not reply.strip():
        return text  # the library found nothing of its own: keep ours
    return reply if len(reply) < len(head.strip()) else reply + tail
