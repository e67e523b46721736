"""Cadence cue classes (en/de/fr/es/pt): the client asking *when* coachd's emails come.

Families, not sentences: a clause is a cadence request only when a scope cue says it is about
the emails or being contacted ("check on me", "schreib mir", "relancez-moi", the emails named),
so "I'll finish it on Friday morning" is no request to change the rhythm.
"""

from __future__ import annotations

import re

from jobs.reading.amounts import NUMBER_WORDS
from jobs.reading.cues import words
from jobs.reading.stopcues import MESSAGE_NOUN

__all__ = ["MESSAGE_NOUN"]

# fmt: off
# Being contacted, said to coachd: "check on me", "write me", "meld dich", "écrivez-moi".
CONTACT = words(
    r"check\s+(?:on|in\s+(?:with|on))\s+me", r"check\s+in", r"(?:write|e-?mail|mail|message|ping|"
    r"contact|nudge|send)\s+(?:to\s+)?me", r"remind\s+me", r"hear\s+from\s+you", r"reach\s+out",
    r"schreib\w*\s+(?:sie\s+)?mir", r"meld\w*\s+(?:dich|euch|sich)", r"erinner\w*\s+mich",
    r"kontaktier\w*\s+mich", r"schick\w*\s+(?:sie\s+)?mir",
    r"[ée]cri(?:vez|s|re)[-\s]moi", r"m'[ée]cri\w*", r"relance[zr]?[-\s]moi", r"me\s+relancer",
    r"rappele?[zr]?[-\s]moi", r"me\s+rappeler", r"contacte[zr]?[-\s]moi", r"me\s+contacter",
    r"escr[íi]b(?:e|a|eme|ame|anme|idme|irme)\w*", r"contact[áa]\w*me", r"recu[ée]rd\w*me",
    r"av[íi]s\w*me", r"me\s+(?:escrib|recuerd|avis|contact|escrev|lembr|mand|cobr)\w*",
    r"escrev\w*[-\s]me", r"lembr\w*[-\s]me", r"cobr\w*[-\s]me",
)
# Asking, not telling: "only", "please", "prefer", "better", "nur", "lieber", "plutôt", "solo".
ASKING = words(
    r"only", r"please", r"prefer\w*", r"rather", r"better", r"would\s+(?:you|it)", r"could\s+you",
    r"nur", r"bitte", r"lieber", r"am\s+liebsten", r"besser",
    r"seulement", r"uniquement", r"s'il\s+(?:te|vous)\s+pla[îi]t", r"de\s+pr[ée]f[ée]rence",
    r"pr[ée]f[èe]re\w*", r"plut[ôo]t", r"mieux",
    r"s[óo]lo", r"solamente", r"por\s+favor", r"prefer\w*", r"mejor",
    r"s[óo]", r"somente", r"apenas", r"melhor",
)
# The reminders themselves, or reminding: a lead before the due date is about them.
REMIND = words(r"remind\w*", r"erinner\w*", r"rappel\w*", r"recu[ée]rd\w*", r"recordatori\w*",
               r"lembr\w*", r"lembrete\w*", r"reminder\w*", r"avis\w*")
BEFORE_DUE = words(r"before(?:\s+(?:it'?s|the)\s+(?:due|deadline))?", r"ahead", r"in\s+advance",
                   r"vorher", r"davor", r"im\s+voraus", r"avant", r"[àa]\s+l'avance", r"antes",
                   r"de\s+antemano", r"com\s+anteced[êe]ncia")
DAY_UNIT = r"(?:days?|tage?n?|jours?|d[íi]as?)"
_NUMBER = "|".join(sorted(map(re.escape, NUMBER_WORDS), key=len, reverse=True))
LEAD = re.compile(rf"(?<!\w)(?P<n>\d{{1,2}}|{_NUMBER})\s+{DAY_UNIT}(?!\w)", re.IGNORECASE)
# "Not before 10", "nicht vor 10 Uhr", "pas avant 10h", "no antes de las 10", "não antes das 10";
# "after 10", "ab 10 Uhr", "après 10h", "a partir de las 10", "depois das 10".
_HOUR = (r"(?P<h>\d{1,2})(?:[:h]\s?(?P<m>\d{2}))?(?:\s*(?P<pm>a\.?m\.?|p\.?m\.?|uhr|h))?"
         r"(?![\w/]|\.\d|\s*(?:days?|tage?n?|jours?|d[íi]as?|weeks?|wochen|semaines?|semanas?)\b)")
# Said with a negation, the hour alone is the request: "not before 10", "pas avant 10h".
NOT_BEFORE = re.compile(
    r"(?<!\w)(?:not\s+(?:before|earlier\s+than)|no\s+earlier\s+than|nicht\s+vor|erst\s+(?:ab|nach)|"
    r"pas\s+avant|no\s+antes\s+de(?:\s+las?)?|n[ãa]o\s+antes\s+d[ae]s?)\s+" + _HOUR,
    re.IGNORECASE,
)
# "After 10", "ab 10 Uhr", "après 10h": a request only in a sentence about the emails.
AFTER_HOUR = re.compile(
    r"(?<!\w)(?:after|from|ab|nach|apr[èe]s|[àa]\s+partir\s+de|despu[ée]s\s+de(?:\s+las?)?|"
    r"a\s+partir\s+de(?:\s+las?)?|depois\s+d[ae]s?|a\s+partir\s+d[ae]s?)\s+" + _HOUR,
    re.IGNORECASE,
)
PARTS_OF_DAY: dict[str, re.Pattern[str]] = {}  # filled below, after the fmt block
# "Weekends are fine" / "not at weekends": the weekend named, then allowed or not.
WEEKEND = words(r"weekends?", r"week-ends?", r"wochenende\w*", r"samedi\s+et\s+dimanche",
                r"fin(?:es)?\s+de\s+semana", r"fins?\s+de\s+semana", r"finde")
WEEKEND_FINE = words(r"fine", r"ok(?:ay)?", r"good", r"welcome", r"too", r"as\s+well", r"also",
                     r"auch", r"gerne?", r"passt", r"in\s+ordnung", r"kein\s+problem", r"aussi",
                     r"[çc]a\s+va", r"pas\s+de\s+probl[èe]me", r"tambi[ée]n", r"sin\s+problema",
                     r"vale", r"bien", r"tamb[ée]m", r"sem\s+problema", r"tranquilo", r"bem")
WEEKEND_NOT = words(r"not?", r"never", r"nicht", r"keine?", r"nie", r"pas", r"jamais", r"sans",
                    r"nunca", r"nada", r"n[ãa]o", r"sem\s+(?:e-?mails|mensagens)", r"ohne")
# How often: "once a week", "zweimal die Woche", "une fois par semaine", "dos veces por semana".
_TIMES = (r"(?:(?P<n>\d)\s*(?:x|times|mal|fois|veces|vezes)|(?P<w>once|twice|einmal|zweimal|"
          r"dreimal|une\s+fois|deux\s+fois|trois\s+fois|una\s+vez|dos\s+veces|tres\s+veces|"
          r"uma\s+vez|duas\s+vezes|tr[êe]s\s+vezes))")
PER_WEEK = re.compile(
    _TIMES + r"\s+(?:a|per|each|every|pro|die|in\s+der|par|por|a\s+la|por\s+la|[àa]|na)?\s*"
    r"(?:week|woche|semaine|semana)(?!\w)",
    re.IGNORECASE,
)
TIMES_WORDS = {"once": 1, "twice": 2, "einmal": 1, "zweimal": 2, "dreimal": 3, "une fois": 1,
               "deux fois": 2, "trois fois": 3, "una vez": 1, "dos veces": 2, "tres veces": 3,
               "uma vez": 1, "duas vezes": 2, "três vezes": 3, "tres vezes": 3}
# "Once a week" said of the emails, or one a week: "one email a week", "eine Mail pro Woche".
LESS_OFTEN = words(
    r"less\s+(?:often|frequently)", r"not\s+so\s+often", r"fewer\s+(?:e-?mails|reminders)",
    r"seltener", r"nicht\s+so\s+oft", r"weniger\s+(?:oft|h[äa]ufig)", r"moins\s+souvent",
    r"moins\s+(?:de\s+)?(?:mails|messages|rappels|relances)", r"pas\s+si\s+souvent",
    r"menos\s+(?:a\s+menudo|seguido|frecuen\w*|veces)", r"con\s+menos\s+frecuencia",
    r"com\s+menos\s+frequ[êe]ncia", r"menos\s+vezes", r"n[ãa]o\s+t[ãa]o\s+seguido",
)
# Days named as a habit, plurals too: "Fridays", "freitags", "le vendredi", "los viernes".
_DAY_NAMES = (
    "monday mondays mon montag montags lundi lundis lunes segunda segundas segunda-feira",
    "tuesday tuesdays dienstag dienstags mardi mardis martes terça terca terças terça-feira",
    "wednesday wednesdays mittwoch mittwochs mercredi mercredis miércoles miercoles quarta "
    "quartas quarta-feira",
    "thursday thursdays donnerstag donnerstags jeudi jeudis jueves quinta quintas quinta-feira",
    "friday fridays freitag freitags vendredi vendredis viernes sexta sextas sexta-feira",
    "saturday saturdays samstag samstags samedi samedis sábado sábados sabado sabados",
    "sunday sundays sonntag sonntags dimanche dimanches domingo domingos",
)
# fmt: on
WEEKDAY_NUMBERS: dict[str, int] = {}
for _index, _names in enumerate(_DAY_NAMES):
    WEEKDAY_NUMBERS.update(dict.fromkeys(_names.split(), _index))
_DAY_WORD = "|".join(sorted(map(re.escape, WEEKDAY_NUMBERS), key=len, reverse=True))
WEEKDAY = re.compile(rf"(?<![\w-])(?:{_DAY_WORD})(?![\w-])", re.IGNORECASE)
# fmt: off
# The client's own doing in the sentence: the day is for the action, not for the emails.
OWN_ACTION = words(
    r"i['\u2019]ll", r"i\s+will", r"i\s+(?:can|could|might|plan|want\s+to)\s+(?!hear|get)",
    r"i['\u2019]ve\s+been", r"i\s+have\s+been", r"gonna", r"going\s+to",
    r"(?:do|finish|send|get|have|call|write|book|start)\s+(?:it|this|that|them)",
    r"ich\s+(?:kann|werde|will|mache|schaffe)", r"mach\w*\s+(?:ich\s+)?(?:es|das)", r"werde",
    r"je\s+(?:peux|vais|pourrai|compte)", r"(?:le|la|les)\s+faire", r"je\s+\w+rai",
    r"(?:puedo|voy\s+a|podr[ée])", r"hacerlo", r"\w+r[ée]\s+(?:el|la|lo)",
    r"(?:posso|vou|consigo)\s+\w+", r"fazer\s+(?:isso|isto)", r"faz[êe]-lo",
)
PAST = words(r"was", r"were", r"war(?:en)?", r"[ée]tait", r"a\s+[ée]t[ée]", r"fue", r"foi",
             r"estuvo", r"esteve")
# fmt: on
# Part-of-day words that also mean "tomorrow" or "late" alone are listed only in phrases.
PARTS_OF_DAY["morning"] = words(
    r"mornings?",
    r"morgens",
    r"vormittags?",
    r"am\s+morgen",
    r"matin(?:s|[ée]e)?",
    r"(?:por|en)\s+las?\s+ma[ñn]anas?",
    r"ma[ñn]anas",
    r"manh[ãa]s?",
)
PARTS_OF_DAY["afternoon"] = words(
    r"afternoons?",
    r"nachmittags?",
    r"apr[èe]s-midi",
    r"(?:por|en)\s+las?\s+tardes?",
    r"tardes",
    r"(?:[àa]|de|pela)\s+tarde",
)
PARTS_OF_DAY["evening"] = words(
    r"evenings?",
    r"abends?",
    r"soir(?:s|[ée]e)?",
    r"(?:por|en)\s+las?\s+noches?",
    r"noches",
    r"(?:[àa]|de)\s+noite",
    r"noites",
)
