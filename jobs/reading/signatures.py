"""Recognise what follows a client's words: signatures, sign-offs, phone footers, disclaimers."""

from __future__ import annotations

import re

from jobs.reading.quotes import MAX_MATCH_CHARS

MAX_FOOTER_CHARS = 90  # a phone footer is one short line; longer lines are sentences
MAX_NAME_WORDS = 4
FOOTER_DEVICE_WORDS = 9
MAX_NAME_CHARS = 40
MAX_SIGNOFF_CHARS = 60
MAX_SIGNOFF_TAIL_WORDS = 5  # "Liebe Grüße und ein schönes Wochenende!"
MAX_SIGNATURE_LINES = 12  # a signature block is the last few lines, never half the message
MAX_SIGNATURE_LINE_CHARS = 90
PROSE_WORDS = 8

_DELIMITER = re.compile(r"^(?:--|—|__)\s*$")
# Phone and webmail footers: "<sent> from/with/via <device>" in many languages.
_FOOTER = re.compile(
    r"^\s*(?:Sent\s+(?:from|with|via|using)\s|Get\s+Outlook\s+for\s|Enviado\s+(?:desde|do|da|"
    r"con|com|a\s+partir)\s|Obt(?:ener|er)\s+(?:o\s+)?Outlook|Baixe\s+o\s+Outlook|"
    r"Von\s+meine[mr]?[\s/]|Gesendet\s+(?:von|mit|vom|über)\s|Holen\s+Sie\s+sich\s+Outlook|"
    r"Envoy[ée]\s+(?:de|depuis|à\s+partir|avec|via)\s|T[ée]l[ée]charger\s+Outlook|"
    r"Inviato\s+(?:da|dal|con)\s|Verzonden\s+(?:vanaf|met|van)\s|Verstuurd\s+(?:vanaf|met)\s|"
    r"Skickat\s+från\s|Sendt\s+fra\s|Wysłane\s+z\s|Wysłano\s+z\s|Отправлено\s+(?:\u0441|из)\s|"
    r"Скачайте\s+Outlook|Lähetetty\s+\S+\s*:|\S+\s+gesendet\s*$)",
    re.IGNORECASE,
)
_FOOTER_DEVICE = re.compile(
    r"iPhone|iPad|Android|Galaxy|Samsung|BlackBerry|Outlook|Yahoo|Mail|mobile|móvil|movil|"
    r"celular|telemóvel|portable|Handy|Smartphone|phone|device|Huawei|Xiaomi|Pixel|Proton|"
    r"GMX|WEB\.DE|torch|Sparrow|Windows|Gmail|tablet",
    re.IGNORECASE,
)
_DISCLAIMER = re.compile(
    r"confidential|privileged|intended\s+(?:only|solely|recipient)|vertraulich|"
    r"Empf[äa]nger|confidencial|confidenti|destinat[áa]rio|destinatario|riservat|"
    r"vertrouwelijk|DISCLAIMER|HAFTUNGSAUSSCHLUSS|AVISO\s+LEGAL|Rechtshinweis",
    re.IGNORECASE,
)
MIN_DISCLAIMER_CHARS = 80
# A short legal line still opens like one: "This email …", "Diese E-Mail …", "Ce message …".
_DISCLAIMER_LEAD = re.compile(
    r"^\W{0,3}(?:This|The\s+information|Diese|Este|Esta|Ce|Cet|Questa|Questo|Deze|Dit)\s",
    re.IGNORECASE,
)  # a disclaimer is a paragraph of legal prose, not a short remark
_SIGNOFF = re.compile(
    r"^(?:best|all\s+the\s+best|cheers|regards|kind\s+regards|warm(?:est)?\s+regards|"
    r"best\s+regards|many\s+thanks|thanks|thank\s+you|thx|ta|talk\s+soon|speak\s+soon|love|"
    r"take\s+care|sincerely|yours|cordialement|bien\s+(?:à\s+vous|à\s+toi|cordialement)|"
    r"bises|bisous|bonne\s+(?:soir[ée]e|semaine|fin\s+de\s+semaine)|bon\s+week-?end|"
    r"sch[öo]nes\s+wochenende|have\s+a\s+(?:good|great|nice|lovely)\s+(?:day|weekend|one)|"
    r"amiti[ée]s|[àa]\s+bient[ôo]t|belle\s+journ[ée]e|bonne\s+journ[ée]e|merci|"
    r"(?:viele|liebe|beste|herzliche|sch[öo]ne|freundliche|sonnige)\s+gr[üu](?:ß|ss)e|"
    r"gr[üu](?:ß|ss)e?|lg|vg|mfg|mit\s+freundlichen\s+gr[üu](?:ß|ss)en|danke|bis\s+bald|"
    r"servus|ciao|saludos|un\s+saludo|un\s+abrazo|abrazos?|besos|gracias|muchas\s+gracias|"
    r"atentamente|cordiales\s+saludos|hasta\s+pronto|abra[çc]os?|beijos?|bjs|bj|obrigad[oa]|"
    r"atenciosamente|att|cumprimentos|at[ée]\s+(?:logo|breve|mais)|groet(?:jes|en)?|"
    r"met\s+vriendelijke\s+groet(?:en)?|saluti|cordiali\s+saluti|grazie|h[äa]lsningar|mvh|"
    r"pozdrawiam|\u0441\s+уважением|спасибо|xx+|xo+)\b",
    re.IGNORECASE,
)
# Contact lines of a signature: a column bar, a link, an address, a phone number.
_POSTSCRIPT = re.compile(
    r"^\s*(?:P\.?\s?-?\s?P?\.?S\.?\s*[:.-]?(?:\s|$)|(?:PD|Obs|N\.?\s?B)\s*[:.-](?:\s|$))",
    re.IGNORECASE,
)
_CONTACT = re.compile(r"\||www\.|https?://|@|\+?\d[\d ()./-]{6,}")
# Sign-offs that end in their noun, whatever leads to it: "Com os melhores cumprimentos",
# "Meilleures salutations", "Belle fin de journée", "Un beso", "With best wishes".
_SIGNOFF_NOUN = re.compile(
    r"^(?:\S+\s+){0,3}(?:salutations|cumprimentos|saludos|gr[üu](?:ß|ss)e|regards|wishes|"
    r"journ[ée]e|soir[ée]e|besos?|abrazos?|abra[çc]os?|beijos?|bisous|groeten|d['\u2019]avance)[,!.]?$",
    re.IGNORECASE,
)
_WORD = re.compile(r"\S+")
_NAME_TOKEN = re.compile(r"^(?:[^\W\d_][\w'\u2019.-]*,?|[xX]{1,3}|[&+|])$")
_PARTICLES = frozenset(
    [
        "de",
        "da",
        "do",
        "dos",
        "das",
        "del",
        "della",
        "van",
        "von",
        "der",
        "den",
        "y",
        "e",
        "et",
        "und",
    ]
)
_KISSES = frozenset({"x", "xx", "xxx", "xo", "xoxo"})
_NAME_LEAD = "-\u2013—~ "  # "-Abhishek Kona", "~ Jo": a dash before the name, nothing else
_COMMON_ANSWERS = frozenset(
    [
        "done",
        "yes",
        "no",
        "ok",
        "okay",
        "sure",
        "thanks",
        "erledigt",
        "fertig",
        "ja",
        "nein",
        "fait",
        "oui",
        "non",
        "hecho",
        "listo",
        "sí",
        "si",
        "feito",
        "pronto",
        "sim",
        "não",
        "nao",
        "stop",
        "gemacht",
        "claro",
        "vale",
        "super",
        "top",
        "perfect",
        "perfekt",
        "parfait",
    ]
)
_SENTENCE_END = re.compile(r"[.?!…:;]\s*$")


def ends_words(line: str) -> bool:
    """A line after which, until the next quote, nothing is the client's: "-- ", a phone
    footer, a disclaimer."""
    return is_delimiter(line) or is_footer(line) or is_disclaimer(line)


def is_postscript(line: str) -> bool:
    """A line that opens a P.S.: "P.S.", "PS:", "PPS", "P.-S." (French), "PD:" (Spanish),
    "Obs:" (Portuguese), "NB:": the writer's words again, after a signature."""
    return _POSTSCRIPT.match(line) is not None


def is_contact(line: str) -> bool:
    """A phone number, an address on the web or by email, or a "|"-separated signature line."""
    return _CONTACT.search(line) is not None


def is_delimiter(line: str) -> bool:
    return _DELIMITER.match(line.strip()) is not None


def is_footer(line: str) -> bool:
    """A phone or webmail footer: one short line, "sent from <device>" in some language."""
    text = line.strip()[:MAX_MATCH_CHARS]
    if len(text) > MAX_FOOTER_CHARS or not _FOOTER.match(text):
        return False
    # "Sent from my desk, is much easier than my phone" is a sentence: the device comes early.
    head = " ".join(text.split(",")[0].split()[:FOOTER_DEVICE_WORDS])
    return _FOOTER_DEVICE.search(head) is not None or text.lower().startswith("get outlook")


def is_disclaimer(line: str) -> bool:
    text = line.strip()[:MAX_MATCH_CHARS]
    if _DISCLAIMER.search(text) is None:
        return False
    return len(text) >= MIN_DISCLAIMER_CHARS or _DISCLAIMER_LEAD.match(text) is not None


def is_signoff(line: str) -> bool:
    """ "Best,", "Viele Grüße", "Thanks, Marcus", "Liebe Grüße und ein schönes Wochenende!"."""
    text = line.strip()
    if len(text) > MAX_SIGNOFF_CHARS or text.endswith(("?", ".", ":")):
        return False
    if _SIGNOFF_NOUN.match(text):
        return True
    match = _SIGNOFF.match(text)
    if match is None:
        return False
    return len(_WORD.findall(text[match.end() :])) <= MAX_SIGNOFF_TAIL_WORDS


def is_name(line: str) -> bool:
    """A bare name line: "Maria", "Julia Neumann", "Dr. Lena Ortiz, PsyD", "N x", "R"."""
    text = line.strip().lstrip(_NAME_LEAD).split("|")[0].strip()
    words = text.split()
    if not words or len(words) > MAX_NAME_WORDS or len(text) > MAX_NAME_CHARS:
        return False
    if text.lower().strip(",!") in _COMMON_ANSWERS or text.endswith(("?", "!", ":", ";")):
        return False
    if not words[0][0].isupper():
        return False
    return all(
        word in _PARTICLES or word in _KISSES or (_NAME_TOKEN.match(word) and word[0].isupper())
        for word in words
    )


def is_signature_line(line: str) -> bool:
    """A line a signature block holds (title, company, phone, link), not a sentence."""
    text = line.strip()
    if not text:
        return True
    if is_signoff(text) or _CONTACT.search(text):
        return True
    words = text.split()
    if len(text) > MAX_SIGNATURE_LINE_CHARS or len(words) >= PROSE_WORDS:
        return False
    # A sentence ends with punctuation and is mostly small words; "Asesores Lozano y Vidal,
    # S.L.P." or "Distribuidora del Bajío S.A. de C.V." end with a dot but are names.
    lower = sum(1 for word in words if word[0].islower())
    return not (_SENTENCE_END.search(text) and len(words) > 2 and 2 * lower >= len(words))


def signature_start(lines: list[str]) -> int | None:
    """Where the trailing signature of a passage starts: a sign-off or a name line followed only
    by signature-like lines, within the passage's last few lines."""
    first = max(1, len(lines) - MAX_SIGNATURE_LINES)
    tail_ok = len(lines)
    for index in range(len(lines) - 1, first - 1, -1):
        if not is_signature_line(lines[index]):
            break
        tail_ok = index
    for index in range(tail_ok, len(lines)):
        if is_signoff(lines[index]):
            return index
    for index in range(tail_ok, len(lines)):
        if is_name(lines[index]) and _ends_thought(lines[index - 1]):
            return index
    return None


def _ends_thought(previous: str) -> bool:
    """A name follows a blank line, a sentence's end, or a line of its own (no comma after it)."""
    text = previous.strip()
    return not text or not text.endswith(",") or is_signoff(text)
