"""Cue classes (en/de/fr/es/pt) that say what a clause does: asks to stop, is blocked, is done…"""

from __future__ import annotations

import re


def words(*patterns: str) -> re.Pattern[str]:
    """One case-insensitive pattern matching any of `patterns` as whole words."""
    joined = "|".join(patterns)  # after an elision too: "j'attends", "l'ai envoyé"
    return re.compile(rf"(?<!\w)(?:{joined})(?![\w'\u2019])", re.IGNORECASE)


# One line per language where it fits (en, de, fr, es, pt): kept compact on purpose.
# fmt: off
UNDO = words(
    r"undo", r"not\s+what\s+i\s+meant", r"misunderst\w+", r"misread", r"wrong\s+(?:e-?mail|reply)",
    r"r[üu]ckg[äa]ngig", r"falsch\s+verstanden", r"nicht\s+gemeint",
    r"annule[rz]?", r"mal\s+compris", r"revenir\s+en\s+arri[èe]re", r"ce\s+n'est\s+pas\s+ce\s+que",
    r"deshac\w*", r"deshaz", r"no\s+es\s+lo\s+que\s+quise", r"lo\s+que\s+quise\s+decir",
    r"desfaz\w*", r"n[ãa]o\s+(?:foi|era)\s+isso", r"e-?mail\s+errado", r"entendeu\s+mal",
    # Correcting what they said before: "I didn't mean", "ich meinte", "quise decir".
    r"didn'?t\s+mean(?!\s+to)", r"(?<!what\s)i\s+meant(?!\s+to)",
    r"i\s+confused\s+(?:things|it|them)",

    r"(?:sorry|entschuldig\w*|d[ée]sol[ée]e?|pardon|perd[óo]n|desculp\w*)\s+(?:for|f[üu]r|pour|por|pela)"
    r"\s+(?:the|die|das|la|le|el|a)\s+(?:confusion|verwirrung|confusi[óo]n|confus[ãa]o)",
    r"meinte\s+(?:eigentlich|damit|nicht)", r"verwechselt", r"missverst[äa]ndnis", r"vertan",
    r"je\s+voulais\s+dire", r"malentendu", r"je\s+me\s+suis\s+tromp[ée]e?",
    r"quise\s+decir", r"malentendido", r"me\s+equivoqu[ée]", r"quis\s+dizer", r"mal-entendido",
    r"me\s+enganei", r"me\s+confundi",
)
# Away or holding off until a day: a pause, not a new date.
PAUSE = words(
    r"pause", r"hold\s+off", r"away", r"travel(?:l)?ing", r"holiday", r"vacation", r"leave",
    r"don'?t\s+write", r"urlaub", r"verreist", r"pausieren", r"nix", r"nichts\s+schicken",
    r"vacances", r"absente?", r"en\s+voyage", r"pauser?",
    r"pausa\w*", r"vacaciones", r"de\s+viaje", r"fuera\s+de\s+la\s+oficina", r"no\s+vuelvo",
    r"f[ée]rias", r"viagem", r"segurar", r"sem\s+internet", r"cong[ée]s?", r"(?:i'?m|i\s+am)\s+off",
    r"out\s+of\s+(?:the\s+)?office", r"abwesend", r"ausente", r"licen[çc]a",
    r"reachable", r"erreichbar", r"joignable", r"localizable", r"contact[áa]vel",
    r"ne\s+rien\s+m'envoyer",
    # Asking not to be sent anything (until a day): the emails held, whatever the verb's tense.
    r"(?:don'?t|do\s+not)\s+send\s+me", r"schick\w*\s+mir\s+(?:nichts|keine)",
    r"ne\s+m'envoy\w+", r"no\s+me\s+(?:mand|envi)\w+", r"n[ãa]o\s+me\s+(?:mand|envi)\w+",
)
UNTIL = words(r"until", r"till", r"before", r"bis", r"jusqu'(?:au|à|a)", r"avant", r"hasta",
              r"antes", r"at[ée]")
# Back on a day: "back on the 7th", "ab dem 7. wieder da", "de retour le", "de vuelta el".
BACK = words(r"back", r"zur[üu]ck", r"wieder", r"ab\s+dem", r"(?:de\s+)?retour", r"rentre\w*",
             r"de\s+vuelta", r"vuelvo", r"regres\w*", r"de\s+volta", r"volto", r"retorno")
# Ongoing obstacles: waiting on someone, a tool broke, stuck, asking for help.
BLOCKED = words(
    r"waiting(?!\s+(?:list|room))", r"wait\s+for", r"in\s+(?:her|his|their)\s+hands", r"stuck",
    r"blocked", r"broke\w*",
    r"died", r"(?:is|are|'s)\s+down", r"crash\w*", r"won'?t\s+(?:switch|start|open|let|take)",
    r"nothing\s+(?:more\s+)?i\s+can\s+do", r"not\s+much\s+(?:more\s+)?i\s+can\s+do",
    r"need\s+(?:some\s+|your\s+)?help", r"help\s+me", r"(?:can|could)\s+you\s+help", r"aider\w*",
    r"(?<!put\s)(?<!puts\s)(?<!putting\s)(?<!get\s)(?<!got\s)(?<!getting\s)together",
    r"warte\w*", r"kaputt", r"h[äa]ng\w*\s+fest", r"stecke\s+fest", r"hilfe",
    r"komm\w*\s+(?:da\s+)?(?:grad\s+)?nicht\s+weiter", r"l[äa]sst\s+mich\s+(?:\w+\s+){0,4}nicht",
    r"gemeinsam",
    r"nichts\s+machen", r"im\s+kreis", r"blockiert", r"(?<!liste\sd')(?<!salle\sd')attend\w*",
    r"en\s+attente", r"bloqu[ée]e?",
    r"coinc[ée]e?", r"perdue?", r"rendu\s+l'[âa]me", r"suspendu", r"en\s+panne", r"aide",
    r"ensemble", r"tourne\s+en\s+rond", r"esperando", r"espero", r"atascad[oa]", r"ca[íi]d[ao]",
    r"no\s+hay\s+manera", r"error", r"ayuda", r"juntos", r"no\s+avanzo", r"bloquead[oa]",
    r"aguardando", r"(?:à|a)\s+espera",
    r"esperando", r"fora\s+do\s+ar", r"travad[oa]", r"travo", r"ajuda", r"juntas",
    r"dificuldade", r"oficina", r"quebr\w+", r"empacad[oa]", r"sem\s+(?:carro|acesso)",
    # Nobody answers: the client is waiting on someone without saying "waiting".
    r"no\s+(?:answer|reply|response)", r"(?:haven'?t|not)\s+heard\s+back",
    r"keine\s+(?:antwort|r[üu]ckmeldung|reaktion)", r"antwortet\w*\s+nicht",
    r"pas\s+de\s+(?:r[ée]ponse|nouvelles)", r"toujours\s+rien",
    r"ne\s+(?:r[ée]pond|d[ée]croch|rappell)\w*\s+(?:pas|jamais|plus)",
    r"sin\s+(?:respuesta|noticias)", r"no\s+(?:me\s+)?(?:contesta|responde|coge)\w*",
    r"sem\s+(?:resposta|retorno)", r"(?:not|n't)\s+pick(?:ing)?\s+up",
    r"geh\w*\s+(?:\w+\s+)?nicht\s+(?:ans\s+telefon|ran)",
    r"n[ãa]o\s+(?:me\s+)?(?:responde|atende|retorn)\w*",
    # Asking for a hand: "lend me a hand", "echar una mano", "go through it with me?".
    r"(?:lend|give)\s+me\s+a\s+hand", r"coup\s+de\s+(?:main|pouce)", r"ech\w*\s+una\s+mano",
    r"(?:dar|d[êe])\s+uma\s+m[ãa]o", r"unter\s+die\s+arme",
    r"(?:with\s+me|mit\s+mir|avec\s+moi|conmigo|comigo)[^.!?]{0,30}\?",
    # It is someone else's turn: "the ball's in their court", "liegt jetzt bei", "en manos de".
    r"ball['\u2019]?s\s+in\s+(?:\w+['\u2019]?s?\s+){1,2}court",
    r"in\s+(?:\w+['\u2019]?s?\s+){1,2}hands",
    r"liegt\s+(?:jetzt\s+|nun\s+)?(?:bei|beim)", r"entre\s+les\s+mains", r"en\s+manos\s+d\w*",
    r"nas\s+m[ãa]os\s+d",
    # A device "gave up the ghost": "den Geist aufgegeben", "rendu l'âme" (above).
    r"(?:gave|given)\s+up\s+the\s+ghost", r"geist\s+aufgegeben",
)
# Not being able to, said plainly: blocked unless a new date follows.
UNABLE = words(
    r"can'?t(?!\s+(?:stop|wait|remember|recall|believe|thank|help\s+but))", r"cannot",
    r"couldn'?t", r"unable", r"don'?t\s+know\s+how",
    r"no\s+time",
    r"kann\s+(?:ich\s+)?(?:\w+\s+)?nicht", r"nicht\s+schaffe", r"keine\s+zeit",
    r"wei(?:ß|ss)\s+nicht",
    r"ne\s+peux\s+(?:pas|plus)", r"impossible", r"n'arriv\w*\s+pas", r"any\s+further",
    r"no\s+avanzo", r"n[ãa]o\s+avan[çc]o", r"nicht\s+weiter", r"j'?y\s+arrive\s+pas",
    r"n'y\s+arrive\s+pas",
    r"je\s+sais\s+pas", r"pas\s+le\s+temps", r"no\s+puedo", r"no\s+(?:consigo|logro)",
    r"no\s+soy\s+capaz", r"no\s+s[ée]\s+c[óo]mo", r"n[ãa]o\s+(?:consigo|consegui|tenho\s+o\s+que)",
    r"n[ãa]o\s+t[ôo]\s+conseguindo", r"n[ãa]o\s+sei\s+(?:\w+\s+)?(?:como|onde|por\s+onde)",
    r"sem\s+tempo",
    r"wei(?:ß|ss)\s+(?:gar|echt|wirklich)\s+nicht",
    # Not able, said of the coming days: "won't be able to", "não vou conseguir".
    r"(?:won'?t|not|n'?t)\s+be\s+able", r"werde\s+(?:\w+\s+){0,2}nicht\s+schaffen",
    r"schaff\w*\s+(?:es\s+|das\s+)?nicht", r"vais\s+pas\s+(?:pouvoir|y\s+arriver|r[ée]ussir)",
    r"no\s+voy\s+a\s+(?:poder|llegar|lograr)", r"n[ãa]o\s+vou\s+(?:conseguir|poder|dar\s+conta)",
    # Not understanding, or overwhelmed: "I don't get it", "c'est trop", "me supera".
    r"(?:don'?t|do\s+not)\s+(?:understand|get\s+it)", r"verstehe?\s+(?:\w+\s+)?nicht",
    r"comprends\s+(?:pas|rien)", r"no\s+entiendo", r"n[ãa]o\s+entendo", r"too\s+much",
    r"overwhelm\w*", r"zu\s+viel", r"[üu]berfordert", r"(?:beaucoup\s+)?trop\s+pour\s+moi",
    r"d[ée]bord[ée]e?", r"agobiad[oa]", r"me\s+supera", r"sobrecarregad[oa]",
)
# The action moved: verbs and frames that propose another day.
MOVE = words(
    r"mov(?:e|ed|es|ing)", r"push\w*", r"postpon\w*", r"reschedul\w*", r"delay\w*", r"shift\w*",
    r"bump\w*", r"instead", r"let'?s\s+say", r"(?:can|could)\s+we\s+say", r"sagen\s+wir",
    r"verleg\w*", r"aufschub", r"mehr\s+zeit", r"disons", r"report(?:er|é|ée|e)", r"d[ée]lai",
    r"plus\s+de\s+temps", r"digamos",
    r"(?:lo\s+)?pas(?:o|amos|ar|e|en)(?:lo|la)?\s+(?:al|para)", r"aplaz\w*",
    r"pospon\w*", r"retras\w*", r"m[áa]s\s+tiempo", r"pr[óo]rroga\w*", r"prorrog\w*",
    r"adi(?:ar|o|ei|amos)", r"empurr\w*", r"mais\s+tempo",
    r"can\s+i\s+have", r"give\s+me", r"laiss\w*(?:\s+\w+){0,2}\s+jusqu'(?:au|à|a)",
    # Proposing a day: "put me down for", "how about", "wie wäre es mit", "qué tal", "te parece".
    r"put\s+(?:me|it)\s+down\s+for", r"pencil\w*\s+(?:me|it)\s+in", r"how\s+about",
    r"what\s+about", r"wie\s+w[äa]re\s+es", r"et\s+si\s+on", r"qu[ée]\s+tal", r"te\s+parece",
    r"aim", r"more\s+time", r"verschieben", r"schieben",
    r"stattdessen", r"lieber", r"reporter", r"repousse\w*", r"d[ée]caler", r"plut[ôo]t", r"vise",
    r"propose", r"mover", r"mueve", r"aplazar", r"posponer", r"c[áa]mbi\w+", r"dejamos\s+para",
    r"dejo\s+para", r"m[áa]s\s+margen", r"adiar", r"remarcar", r"passar\s+pra", r"deixar\s+pra",
    r"fica\s+pra", r"em\s+vez",
    # Putting or running it to a day: "pongamos el viernes", "lo puedo correr pa…", "bota pra".
    r"pongamos", r"p[óo]n(?:lo|la)\s+(?:para|pa)",
    r"corr(?:er|o|emos|amos)(?:lo|la)?\s+(?:pa|para)", r"(?:bota|coloca|passa|joga)\s+(?:pra|para)",
    # Naming the day as the step's new one: "als neuen Termin", "nouvelle date", "novo prazo".
    r"new\s+(?:date|deadline|due\s+date)", r"neu(?:e|en|er|es)\s+(?:termin|datum|frist|deadline)",
    r"nouv(?:elle|eau)\s+(?:date|d[ée]lai|[ée]ch[ée]ance)", r"nuev[ao]\s+(?:fecha|plazo)",
    r"nov[ao]\s+(?:data|prazo)",
)
# Promise or plan: first person future, "by", "bis", "d'ici", "para el", "até".
# Promise or plan: first person future, going to, will have it done.
FUTURE = words(
    r"i['\u2019]ll", r"i\s+will", r"will\s+have", r"gonna", r"going\s+to", r"should",
    r"we['\u2019]ll",
    r"werde", r"wird", r"mach(?:e)?\s+ich", r"ich\s+mach\w*", r"schaffe\s+ich", r"nehm\w*",
    r"je\s+vais", r"je\s+(?:l'|m'y\s+|m'en\s+)?\w+rai", r"sera", r"occupe", r"je\s+m'y\s+colle",
    r"je\s+(?:les|le|la|l')\s*(?!ai\b)\w+", r"sans\s+faute", r"sin\s+falta", r"sem\s+falta",
    r"without\s+fail", r"voy\s+a", r"\w{2,}rés?",
    r"lo\s+tengo",
    r"seront", r"serai", r"ser[áa]n?", r"ser[ãa]o", r"estar[áa]n?", r"estar[ãa]o",
    r"hago", r"vou", r"vamos", r"\w{2,}rei", r"fa[çc]o", r"eu\s+fa[çc]o", r"a\s+m[áa]s\s+tardar",
)
# A deadline before a date: "by Friday", "bis Freitag", "d'ici", "pour", "para el", "até".
DEADLINE = words(
    r"by", r"until", r"till", r"bis", r"d'ici", r"pour", r"avant", r"para", r"hasta", r"at[ée]",
)
ALL_OF_THEM = words(
    r"all", r"both", r"everything", r"alle[s]?", r"beide[s]?", r"tout", r"tous", r"les\s+deux",
    r"les\s+trois", r"todo", r"todos", r"todas", r"ambos", r"tudo", r"os\s+dois",
    r"l'une?\s+et\s+l'autre", r"ambas", r"las\s+dos", r"los\s+dos", r"as\s+duas", r"the\s+two",
    r"die\s+beiden", r"each", r"jede[ns]?", r"chacune?", r"cada\s+una?",
)
# Assent: "yes", "ok", a tick or a thumbs up ("2 ok", "1. ✅").
YES = re.compile(
    r"^\W*(?:\w+\s+){0,2}(?:(?:yes|yep|yeah|ja|jep|oui|s[íi]|sim|ok(?:ay)?)\b|[✓✔✅👍])",
    re.IGNORECASE,
)
DONE = words(
    r"done", r"finished", r"completed?", r"did\s+it", r"nailed\s+it", r"sorted", r"arranged",
    r"is\s+out", r"(?:is|are|it'?s|\w+['\u2019]s)\s+in(?=\s*[!.]|\s*$)",
    r"(?:feit|acabad|terminad|hech|list|pront|fertig)[íi]?s?sim[oa]s?", r"c'?\s*est\s+fai[st]",
    r"went\s+(?:up|out)",
    r"(?:is|are)\s+(?:signed|sent|booked|filed|live|up)",
    r"(?:is|are|ist|sind|est|sont|está|están|estão)\s+(?:en\s+ligne|online|live|no\s+ar)",
    r"sent", r"submitted", r"handed\s+in", r"eingereicht", r"abgeschickt", r"abgegeben",
    r"envoy[ée]e?s?", r"enviad[oa]s?", r"envi[ée]", r"mand[ée]", r"entregu[ée]", r"entreguei",
    r"enviei", r"mandei",
    r"erledigt", r"fertig", r"geschafft", r"gemacht", r"abgeschlossen", r"ist\s+raus",
    r"c'est\s+fait", r"fait", r"faite?s?", r"fini[es]?", r"termin[ée]e?s?", r"boucl[ée]",
    r"envoy[ée]",
    r"hech[oa]s?", r"list[oa]s?", r"ya\s+qued[óo]", r"r[ée]gl[ée]e?", r"ficou\s+pront[oa]",
    r"terminad[oa]", r"ya\s+est[áa]", r"completad[oa]", r"acab[ée]",
    r"feit[oa]s?", r"pronto", r"terminei", r"conclu[íi]d[oa]", r"acabei", r"est[áa]\s+marcad[oa]",
)
# The step's own date named: "the deadline is now the 9th", "neue Frist", "nouvelle échéance".
DUE_WORD = words(
    r"deadline", r"due", r"frist", r"abgabe\w*", r"[ée]ch[ée]ance", r"date\s+limite", r"plazo",
    r"fecha\s+l[íi]mite", r"prazo", r"entrega",
)
# Done with because no longer needed ("hat sich erledigt"): not a completion of the step.
MOOT = words(
    # Full, sold out: the thing could not be had, no completion ("the restaurant's fully booked").
    r"fully\s+booked", r"sold\s+out", r"ausgebucht", r"ausverkauft", r"complet", r"[ée]puis[ée]",
    r"lleno", r"agotad[oa]s?", r"lotad[oa]", r"esgotad[oa]s?",
    r"no\s+longer\s+(?:needed|necessary|relevant)", r"moot", r"sich\s+(?:\w+\s+){0,2}erledigt",
    r"n'a\s+plus\s+lieu", r"plus\s+la\s+peine", r"ya\s+no\s+(?:es\s+necesario|tiene\s+sentido)",
    r"n[ãa]o\s+(?:faz\s+mais\s+sentido|[ée]\s+mais\s+necess[áa]rio)",
)
NEGATION = words(
    r"not", r"no", r"never", r"\w+n['\u2019]t", r"yet", r"n'?t", r"nicht", r"nie", r"kein\w*",
    r"pas", r"ne\s+plus",
    r"jamais", r"todav[íi]a", r"a[úu]n", r"nada", r"n[ãa]o", r"ainda", r"nunca", r"nee", r"nope",
    r"didn'?t", r"haven'?t", r"hasn'?t", r"isn'?t", r"wasn'?t", r"qu[ée]\s+va",
)
# "Not yet" wherever it stands in the clause: "done? not yet", "noch nicht", "pas encore".
NOT_YET = words(
    r"yet", r"noch\s+nicht", r"nicht\s+mehr", r"pas\s+encore", r"todav[íi]a\s+no", r"a[úu]n\s+no",
    r"ainda\s+n[ãa]o", r"n[ãa]o\s+\w+\s+ainda",
)
# A part, not the whole: "half", "two of three", "still need", "il me reste".
PARTIAL = words(
    r"half\w*", r"almost", r"nearly", r"so\s+far", r"still\s+need", r"first\s+half", r"part\s+of",
    r"h[äa]lfte", r"fast", r"fehl\w+\s+noch", r"bis\s+jetzt", r"bisher", r"moiti[ée]", r"presque",
    r"il\s+me\s+reste", r"reste\s+[àa]", r"mitad", r"casi", r"me\s+quedan?", r"me\s+falta\w*",
    r"a\s+medias", r"metade", r"quase", r"falta\w*", r"hasta\s+ahora", r"at[ée]\s+agora",
)
# A date here is for something else: a session, an appointment, another person's doing.
OTHER_EVENT = words(
    r"session", r"sitzung", r"termin\s+beim", r"s[ée]ance", r"sesi[óo]n", r"sess[ãa]o",
    r"see\s+you", r"on\s+track", r"still\s+(?:on|fine|good|ok)", r"no\s+changes?", r"klappt",
    r"pas\s+de\s+changement",
    r"toujours\s+pr[ée]vu", r"sigue\s+(?:bien|en\s+pie)", r"de\s+p[ée]", r"tudo\s+certo",
    r"they", r"she'?ll", r"he'?ll", r"il\s+doit", r"viene", r"kommt", r"passent", r"me\s+operan",
    r"cita", r"meeting", r"appointment", r"interview", r"gespr[äa]ch", r"r[ée]union", r"reuni[óo]n",
    r"reuni[ãa]o", r"consulta", r"rendez-vous", r"birthday", r"geburtstag", r"anniversaire",
    r"cumplea[ñn]os", r"anivers[áa]rio",
    # Travelling or confirming the date already agreed: a day for something else.
    r"en\s+d[ée]placement", r"business\s+trip", r"dienstreise", r"unterwegs", r"de\s+viaje",
    r"viajando", r"confirm\w*", r"best[äa]tig\w*", r"congres\w*", r"congress\w*", r"kongress",

    # Other people's events and the client's own trips: a wedding, a party, a flight.
    r"wedding", r"funeral", r"party", r"concert", r"flight", r"hochzeit", r"beerdigung", r"feier",
    r"konzert", r"flug", r"mariage", r"enterrement", r"f[êe]te", r"soir[ée]e", r"vol", r"boda",
    r"entierro", r"fiesta", r"concierto", r"vuelo", r"casamento", r"enterro", r"festa", r"voo",
)
SINCE = words(
    r"since", r"last", r"ago", r"seit", r"letzte\w*", r"depuis", r"derni(?:er|ère)", r"desde",
    r"pasad[oa]", r"passad[oa]", r"semana\s+passada",
)
QUESTION_END = re.compile(r"\?\s*$")
# fmt: on
