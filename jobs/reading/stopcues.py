"""Stop cue classes (en/de/fr/es/pt): the emails named, cease and removal verbs, going alone.

Families, not sentences: each line is one class of the request in the five languages, widened
by morphology ("unsubscrib\\w*", "désabonn\\w*") so unseen inflections are heard too.
"""

from __future__ import annotations

from jobs.reading.cues import words

# fmt: off
# The emails themselves, as clients name them.
MESSAGES = (
    r"(?:e-?mails?|messages?|reminders?|nudges?|these|them|"
    r"mails?|e-?mails|nachrichten|erinnerungen|"
    r"courriels?|rappels?|relances?|"
    r"correos?|mensajes?|recordatorios?|avisos?|"
    r"mensagens?|lembretes?|envois?|env[íi]os?|cobran[çc]as?)"
)
_DETERMINER = r"(?:these|your|the|any|estos|esses)"
_REMOVE = (
    r"(?:remove|take|delete|erase|retir\w*|enl[eè]v\w*|nehm\w*|streich\w*|l[öo]sch\w*|entfern\w*|"
    r"supprim\w*|effac\w*|tir\w*|sac\w*|quit\w*|borr\w*|elimin\w*|apag\w*|remov\w*)"
)
_LIST = r"(?:(?:mailing\s+)?list\w*|verteiler\w*|liste|lista|newsletter|diffusion)"
# The emails as nouns only (no "these"): "no more reminders", "keine Mails mehr".
MESSAGE_NOUN = words(MESSAGES.replace("these|them|", ""))
# Getting, sending or wanting them: the verbs a "no more emails" request is made of.
DELIVERY = words(
    r"receiv\w*", r"get(?:ting)?", r"send\w*", r"want", r"need", r"bekomm\w*", r"erhalt\w*",
    r"krieg\w*", r"schick\w*", r"will", r"m[öo]chte", r"recev\w*", r"re[çc]oi\w*", r"re[çc]u\w*",
    r"envoy\w*",
    r"veux", r"souhaite", r"recib\w*", r"lleg\w*", r"envi\w*", r"mand\w*", r"quiero", r"receb\w*",
    r"quero", r"cheg\w*",
)
MORE = words(
    r"any\s*more", r"further", r"again", r"no\s+more", r"no\s+longer", r"mehr", r"plus", r"m[áa]s",
    r"mais", r"weitere\w*",
)
# "don't want these any more", "ne plus recevoir", "ya no quiero recibir", "não desejo mais".
STOP_CEASE = words(
    r"stop\s+(?:e-?mailing|sending|messaging|contacting|writing|reminding)",
    rf"(?:no\s+more|no\s+m[áa]s|n[ãa]o\s+mais)\s+(?:of\s+)?{_DETERMINER}?\s*{MESSAGES}",
    r"unsubscrib\w*", r"opt(?:ing|ed)?\s+out", rf"{_REMOVE}\b[^.!?]{{0,30}}\b{_LIST}",
    rf"{_LIST}\b[^.!?]{{0,30}}\b{_REMOVE}",
    rf"stop\s+{_DETERMINER}?\s*{MESSAGES}",
    rf"(?:don'?t|do\s+not|no\s+longer)\s+(?:want|need|wish)\s+(?:to\s+(?:get|receive)\s+)?"
    rf"(?:any\s+more\s+)?{_DETERMINER}?\s*{MESSAGES}",
    rf"no\s+need\s+for\s+(?:the|these|any)?\s*{MESSAGES}",
    r"(?:don'?t|do\s+not|please\s+don'?t)\s+(?:e-?mail|contact|write\s+to|send)\s+me",
    r"(?:take|remove)\s+me\s+off", r"remove\s+me\s+from",
    r"off\s+(?:the|this|your)\s+(?:list|reminders)",
    rf"{MESSAGES}\s+(?:[\w']+\s+){{0,4}}nicht\s+mehr", rf"keine\s+{MESSAGES}\s+mehr",
    r"abmeld\w*", r"austrag\w*", r"abbestell\w*", r"rausnehmen", r"h[öo]r(?:en\s+sie|t)\s+auf",
    r"ne\s+(?:\w+\s+)?(?:plus|pas)\s+recevoir",
    rf"(?:n'ai|ai)\s+plus\s+besoin(?:\s+de\s+ces\s+{MESSAGES})?",
    r"j'en\s+ai\s+plus\s+besoin", r"ne\s+plus\s+m'en", r"d[ée]sabonn\w*", r"d[ée]sinscri\w*",
    r"arr[êe]te[zs]?\s+de\s+m'[ée]crire", r"arr[êe]tez", rf"plus\s+de\s+{MESSAGES}",
    r"(?:ya\s+)?no\s+(?:quiero|deseo|necesito)\s+(?:que\s+me\s+sigan\s+llegando|recibir|m[áa]s)",
    r"no\s+me\s+(?:env[íi]e|env[íi]en|mandes?|escrib\w+)\s+m[áa]s", r"ya\s+no\s+me\s+\w+\s+m[áa]s",
    r"s[áa](?:c|qu)\w*me\s+de", r"d[aeé]\w*\s+de\s+baja", r"desuscr[ií]b\w*",
    r"cancelar\s+la\s+suscripci[óo]n",
    r"dej(?:a|en|ad|e)\s+de\s+(?:escribirme|enviarme|mandarme|me\s+enviar|me\s+mandar)",
    r"n[ãa]o\s+(?:quero|desejo|preciso)\s+mais", r"n[ãa]o\s+precisa\s+mais\s+me",
    r"deix(?:e|a)\s+de\s+me\s+(?:enviar|mandar|escrever)", r"pare\s+de\s+me", r"descadastr\w+",
    rf"chega\s+de\s+{MESSAGES}", r"cancelar\s+(?:a\s+)?inscri[çc][ãa]o", r"desinscrev\w*",
)
# Asking for the emails to cease, in a request, wish or plan form (never a past: "I stopped
# checking emails" tells of something else). A clause with one of these and an email noun.
CEASE = words(
    r"stop", r"quit", r"cease", r"halt", r"cancel", r"aufh[öo]ren", r"einstellen", r"sparen",
    r"abbestellen", r"arr[êe]t(?:er|ez|e|ons)", r"cess(?:er|ez|e)", r"suspend(?:re|ez|er)",
    r"par(?:ar|e|em|en|ad)", r"para\s+de", r"dej(?:ar|a|en|ad|e)\s+de", r"deix(?:ar|a|e|em)\s+de",
    r"detener", r"cancel(?:ar|e|en|em)", r"suspend(?:er|a|an|am)",
)
# There is no need any more: "no need", "kein Bedarf", "plus besoin", "no hace falta".
NO_NEED = words(
    r"no\s+need", r"(?:don'?t|do\s+not|no\s+longer)\s+need", r"kein(?:en)?\s+bedarf",
    r"nicht\s+(?:mehr\s+)?n[öo]tig", r"(?:pas|plus)\s+besoin", r"(?:plus|pas)\s+n[ée]cessaire",
    r"no\s+hace\s+falta", r"no\s+(?:es|será)\s+necesario", r"ya\s+no\s+necesito",
    r"n[ãa]o\s+(?:precisa|[ée]\s+preciso|[ée]\s+necess[áa]rio)", r"sem\s+necessidade",
)
# Writing to the client, said to the coach: "write to me", "mir schreiben", "m'écrire".
TO_ME = words(
    r"(?:write|e-?mail|send|contact|remind)\w*\s+(?:to\s+)?me",
    r"mir\s+(?:\w+\s+)?(?:schreib|schick|send)\w*",
    r"m'(?:[ée]cri|envoy|relanc)\w*", r"me\s+(?:escrib|mand|envi|recuerd|escrev|lembr)\w*",
    r"(?:escribir|enviar|mandar|recordar)me", r"(?:escrever|enviar|mandar|lembrar)-me",
)
# "I'd rather carry on by myself": a preference for going alone.
ON_MY_OWN = words(
    r"on\s+my\s+own", r"by\s+myself", r"allein(?:e)?", r"selbst", r"seule?", r"moi-m[êe]me",
    r"sol[oa]", r"por\s+mi\s+cuenta", r"a\s+mi\s+ritmo", r"sozinh[oa]", r"por\s+conta\s+pr[óo]pria",
)
PREFER = words(
    r"rather", r"prefer", r"going\s+to\s+handle", r"from\s+here", r"lieber", r"weiter",
    r"pr[ée]f[èe]re", r"continuer", r"prefiero", r"seguir", r"prefiro", r"gerir",
)
# Withdrawing or ending, said of the emails or of the coaching: "bow out of", "mettre un terme".
WITHDRAW = words(
    r"bow(?:ing)?\s+out", r"drop(?:ping)?\s+out", r"step(?:ping)?\s+(?:back|away|out)",
    r"pull(?:ing)?\s+out", r"withdraw\w*", r"put\s+an\s+end", r"beend\w*", r"aussteig\w*",
    r"mettre\s+(?:un\s+terme|fin)", r"poner\s+fin", r"terminar\s+con", r"p[ôo]r\s+fim",
    r"encerr\w*", r"desist\w*", r"leav(?:e|ing)", r"steige\w*\s+(?:\w+\s+){0,4}aus",
    r"sair\s+d[oa]", r"salir(?:me)?\s+del?", r"quitter",
)
# The coaching itself as the thing to end: "the coaching", "das Coaching", "l'accompagnement".
PROGRAMME = words(
    r"coaching", r"programm?e?s?", r"accompagnement", r"suivi", r"acompa[ñn]amiento",
    r"seguimiento", r"acompanhamento", r"programa",
)
# Ending it here, with a place adverb: "leave it there", "en rester là", "cortarla acá".
END_HERE = words(
    r"(?:stop|leave\s+it|end\s+it)\s+(?:here|there)", r"call\s+it\s+a\s+day",
    r"hier\s+aufh[öo]ren", r"dabei\s+belassen", r"en\s+rester\s+l[àa]", r"arr[êe]ter\s+l[àa]",
    r"(?:cort|dej)\w*\s+(?:ac[áa]|aqu[íi]|ah[íi])", r"(?:par|fic)\w*\s+por\s+aqui",
)
# A first-person object next to a removal verb: "remove me", "mich … nehmen", "me retirer",
# "sácame", "tirem-me".
REMOVE_ME = words(
    rf"{_REMOVE}\s+me", rf"mich\s+(?:\w+\s+){{0,4}}(?:zu\s+)?{_REMOVE}", rf"{_REMOVE}(?:-?me|-moi)",
    r"me\s+(?:\w+\s+)?(?:retir|enl[eè]v|tir|sac|quit|borr|elimin|exclu)\w*",
)
# The client's address as what is to be removed: "delete my email address", "meine Adresse".
MY_ADDRESS = words(
    r"(?:my|meine?|mon|ma|mi|o\s+meu|meu|a\s+minha|minha)\s+(?:e-?mail\s+|mail\s+)?"
    r"(?:address|adresse|e-?mail(?:-?adresse)?|mailadresse|direcci[óo]n|correo|endere[çc]o)",
)
REMOVE = words(_REMOVE)
# Writing or sending to the client: the verbs a "don't write to me any more" is made of.
CONTACT = words(
    r"(?:e-?mail|writ|send|contact|remind|messag)\w*", r"(?:an)?schreib\w*", r"schick\w*",
    r"kontaktier\w*", r"erinner\w*", r"[ée]cri\w*", r"envo[iy]\w*", r"contact\w*",
    r"relanc\w*", r"escrib\w*", r"envi\w*", r"mand\w*", r"recuerd\w*", r"escrev\w*",
    r"contat\w*", r"lembr\w*",
)
# A polite request put as a question is still a request: "can you cancel…?", "pode cancelar…?".
REQUEST = words(
    r"(?:can|could|would)\s+you", r"please", r"kannst\s+du", r"k[öo]nn(?:t)?en\s+sie",
    r"k[öo]nntest\s+du", r"bitte", r"pourriez", r"pouvez", r"peux-tu", r"tu\s+peux",
    r"merci\s+de", r"s'il\s+(?:te|vous)\s+pla[iî]t", r"puedes", r"podr[íi]as?", r"pueden?",
    r"podr[íi]an", r"por\s+favor", r"pode[ms]?", r"poderia[ms]?",
)
# The emails weigh on the client: "stress me out", "setzen mich unter Druck", "me agobian".
# With the emails named, a possible stop: the coach is asked before anything is sent.
BURDEN = words(
    r"stress\w*", r"pressure", r"annoy\w*", r"too\s+many", r"overwhelm\w*", r"druck",
    r"nerv\w*", r"zu\s+viele", r"stress", r"pression", r"agac\w*", r"ag[aâ]ç\w*",
    r"trop\s+de", r"agobi\w*", r"molest\w*", r"demasiad[oa]s", r"agobio", r"press[ãa]o",
    r"irrit\w*", r"demais", r"sufoc\w*",
)
# fmt: on
