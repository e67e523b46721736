"""Find quoted history in a reply's lines: ">" blocks, attribution lines, header blocks, rules."""

from __future__ import annotations

import re

# Every regex here runs on one line cut to this length, and none nests quantifiers: matching
# costs at most a constant per line, whatever the sender put in the body.
MAX_MATCH_CHARS = 400
MAX_ATTRIBUTION_LINES = 3  # clients wrap "On <date>, <name> <address> wrote:" over 2-3 lines
MAX_ATTRIBUTION_CHARS = 300
MAX_HEADER_BLOCK_LINES = 8  # From/Sent/To/Cc/Subject (and Date, Reply-To) with bold markers
MIN_HEADER_LABELS = 2
MAX_HEADER_GAP = 2  # non-blank lines from one label to the next: a wrapped value at most
MAX_LABEL_CHARS = 30

# "X wrote:" in the languages clients reply in; a quote header also carries a date or address.
_WROTE = re.compile(
    r"\b(?:wrote|writes|schrieb|geschrieben|[ée]crit|escribi[óo]|escreveu|scritto|schreef|"
    r"geschreven|skrev|skriver|kirjoitti|napisa[łl]|napsal|написал|пишет|[íi]rta|yazd[\u0131i]|"
    r"έγραψε|scrise|rašė)|写道|寫道|のメッセージ|님이 작성|작성:",
    re.IGNORECASE,
)
_DATE_OR_TIME = re.compile(r"\d{1,4}[./-]\d{1,2}|\d{1,2}[:.h]\d{2}|\d{4}\s*年|\d{1,2}\s+\w{3}")
_ADDRESS = re.compile(r"[\w.+-]@[\w-]+\.\w|<[^<>\s]{1,100}>|\(coach\)")
# How quote headers open: a date, a preposition ("On", "Am", "Le", "El", "Em", "Op", "Den" …),
# or a weekday and a number ("Mittwoch, 25.", "ons 4 dec.", "пн, 25 нояб.").
_HEADER_LEAD = re.compile(
    r"(?:\d|On\b|Am\b|Le\b|El\b|Em\b|Op\b|Il\b|Den\b|Dnia\b|W\s+dniu\b|P[åa]\b|Dne\b|"
    r"Quoting\b|Citando\b|Zitat\b|在|於|[^\W\d]{2,12}\.?,?\s+\d)",
    re.IGNORECASE,
)
_ENDS_WITH_COLON = re.compile(r"[:\uff1a]\s*$")
# Lines that open a forwarded or original message in every common wording: a rule of dashes
# around a few words ("-----Original Message-----", "----- Mail original -----", Proton's
# "------- Original Message -------") or the Apple/Outlook forward openers.
_WORDS_IN_RULE = re.compile(r"^\s*[-=_*]{3,}\s*[^\W\d][^-=_]{2,60}[-=_*]{3,}\s*$")
_FORWARD_OPENER = re.compile(
    r"^\s*(?:Begin\s+forwarded\s+message|Anfang\s+der\s+weitergeleiteten\s+Nachricht|"
    r"D[ée]but\s+du\s+message\s+r[ée]exp[ée]di[ée]|Inicio\s+del\s+mensaje\s+reenviado|"
    r"In[íi]cio\s+da\s+mensagem\s+reencaminhada|Messaggio\s+inoltrato|Doorgestuurd\s+bericht)"
    r"\s*[:\uff1a]\s*$",
    re.IGNORECASE,
)
# Outlook users answer inside the un-prefixed history, each answer tagged: "[JM] Done",
# "[Laura] …", "R: Enviei hoje" (resposta), "A: …", "Antwort: …".
_INLINE_ANSWER = re.compile(
    r"^\s*(?:\[[^\]\[]{1,20}\]\s|(?:R|A|Antwort|Resposta|Respuesta|R[ée]ponse|Answer)\s?:\s)"
)
_RULE = re.compile(r"^\s*(?:-{5,}|_{5,}|={5,}|\*{5,})\s*$")
_LONG_RULE = re.compile(r"^\s*_{20,}\s*$")  # Outlook's own rule, alone means history follows
_LABEL = re.compile(r"^[>\s]*\*{0,2}([^\s:\uff1a*<>\d][^:\uff1a*<>\d]{0,29}?)\*{0,2}\s*[:\uff1a]")
# Header labels of Outlook-style blocks (From/Sent/To/Cc/Subject/Date) in many languages.
HEADER_LABELS = frozenset(
    [
        "from",
        "sent",
        "to",
        "cc",
        "bcc",
        "subject",
        "date",
        "reply-to",
        "von",
        "gesendet",
        "an",
        "betreff",
        "datum",
        "kopie",
        "de",
        "envoyé",
        "à",
        "a",
        "objet",
        "date",
        "enviado",
        "para",
        "asunto",
        "fecha",
        "enviada",
        "assunto",
        "data",
        "van",
        "verzonden",
        "aan",
        "onderwerp",
        "datum",
        "da",
        "inviato",
        "oggetto",
        "data",
        "från",
        "skickat",
        "till",
        "ämne",
        "kopia",
        "fra",
        "sendt",
        "til",
        "emne",
        "od",
        "wysłano",
        "do",
        "temat",
        "dw",
        "от",
        "отправлено",
        "кому",
        "тема",
        "дата",
        "копия",
        "发件人",
        "发送时间",
        "收件人",
        "主题",
        "抄送",
        "日期",
        "寄件者",
        "寄件日期",
        "收件者",
        "主旨",
        "差出人",
        "送信日時",
        "宛先",
        "件名",
        "日付",
        "보낸",
        "사람",
        "받는",
        "사람",
        "제목",
        "날짜",
        "lähettäjä",
        "lähetetty",
        "vastaanottaja",
        "aihe",
        "feladó",
        "elküldve",
        "címzett",
        "tárgy",
        "kimden",
        "gönderildi",
        "kime",
        "konu",
        "tarih",
    ]
) | {"보낸 사람", "받는 사람", "envoyé le", "enviado el", "sent on", "enviada em", "enviado em"}


def is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _attribution_text(lines: list[str], start: int, end: int) -> str:
    return " ".join(line[:MAX_MATCH_CHARS].strip().lstrip("> ") for line in lines[start:end])


def _is_attribution(text: str) -> bool:
    """A quote header: ends with a colon, and says "wrote" with a date or address near it, or is
    a date + a name/address + a colon (Gmail's and Japanese clients' header with no verb)."""
    if len(text) > MAX_ATTRIBUTION_CHARS or not _ENDS_WITH_COLON.search(text):
        return False
    has_date = _DATE_OR_TIME.search(text) is not None
    has_address = _ADDRESS.search(text) is not None
    if _WROTE.search(text):
        return has_date or has_address
    return has_date and has_address


def attribution_span(lines: list[str], end: int) -> int | None:
    """Where a quote header ending on line `end` starts, if it is one. Of the spans (1-3 lines)
    that read as a header, the shortest that opens like one (a date, "On", "Am", "Le" …), else
    the shortest that opens a paragraph, else the shortest."""
    if not _ENDS_WITH_COLON.search(lines[end][:MAX_MATCH_CHARS]):
        return None
    matching = []
    for start in range(end, max(-1, end - MAX_ATTRIBUTION_LINES), -1):
        if not lines[start].strip():
            break
        if _is_attribution(_attribution_text(lines, start, end + 1)):
            matching.append(start)
    for start in matching:
        if _HEADER_LEAD.match(lines[start][:MAX_MATCH_CHARS].lstrip("> ")):
            return start
    for start in matching:
        if start == 0 or not lines[start - 1].strip() or is_quoted(lines[start - 1]):
            return start
    return matching[0] if matching else None


def _label(line: str) -> str | None:
    match = _LABEL.match(line[:MAX_MATCH_CHARS])
    if match is None:
        return None
    label = " ".join(match.group(1).lower().split())
    return label if label in HEADER_LABELS else None


def is_header_block(lines: list[str], index: int) -> bool:
    """Two known "Label: value" lines close together open an Outlook-style header block (HTML
    turned to text may put blank lines, or a wrapped value, between them)."""
    if _label(lines[index]) is None:
        return False
    labels = seen = 0
    for line in lines[index + 1 : index + MAX_HEADER_BLOCK_LINES]:
        if not line.strip():
            continue
        seen += 1
        if _label(line) is not None:
            labels += 1
        if labels + 1 >= MIN_HEADER_LABELS:
            return True
        if seen >= MAX_HEADER_GAP:
            return False
    return False


def is_opener(lines: list[str], index: int) -> bool:
    """A separator line that opens history: worded rules, forward openers, Outlook's long rule,
    or a bare rule right above a header block or attribution."""
    line = lines[index][:MAX_MATCH_CHARS]
    if _WORDS_IN_RULE.match(line) or _FORWARD_OPENER.match(line) or _LONG_RULE.match(line):
        return True
    if not _RULE.match(line):
        return False
    following = next((i for i in range(index + 1, len(lines)) if lines[i].strip()), None)
    if following is None:
        return False
    return is_header_block(lines, following) or attribution_span(lines, following) is not None


def is_inline_answer(line: str) -> bool:
    return _INLINE_ANSWER.match(line[:MAX_MATCH_CHARS]) is not None
