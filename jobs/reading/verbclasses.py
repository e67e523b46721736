"""Verb classes by lemma (en/de/fr/es/pt): what a verb means, so any inflection is heard.

A clause is matched by lemmatising its words (simplemma, see verbs.lemma) and asking which
class a lemma is in: "konnte" → können (ability), "pifou" → pifar (breaking down), "movemos"
→ mover (moving a date), "abgehakt" → abhaken (completing). Each set is one meaning in the
five languages, never a client's sentence.
"""

from __future__ import annotations

# fmt: off
# Completing: a past or perfect form of one of these says the step is done.
COMPLETE = frozenset({
    "finish", "complete", "wrap", "tick", "accomplish",
    "erledigen", "abhaken", "abarbeiten", "abschließen", "fertigstellen", "fertigmachen",
    "schaffen", "klappen", "hinkriegen", "hinbekommen",
    "finir", "terminer", "achever", "boucler", "régler", "cocher", "accomplir",
    "terminar", "acabar", "completar", "finalizar", "resolver", "tachar", "hacer", "cumplir",
    "concluir", "riscar", "fazer", "despachar", "cumprir", "tratar",
})
# Being able to, or managing: negated, the client cannot go on ("konnte nicht", "n'arrive pas").
ABILITY = frozenset({
    "can", "could", "able", "manage",
    "können", "schaffen", "hinkriegen", "hinbekommen",
    "pouvoir", "arriver", "réussir", "parvenir",
    "poder", "conseguir", "lograr",
})
# Getting on: negated, the client is stuck ("je n'avance pas", "não avanço", "no progress").
PROGRESSING = frozenset({
    "progress", "advance", "vorankommen", "weiterkommen", "avancer", "progresser", "avanzar",
    "progresar", "avançar", "progredir",
})
# Helping: asked for ("¿me ayudas?", "kannst du mir helfen?"), the client needs the coach.
HELPING = frozenset({"help", "helfen", "aider", "ayudar", "ajudar"})
# Working, of a tool or a system: negated, something is broken ("no funciona", "marche pas").
WORKING = frozenset({
    "work", "function", "funktionieren", "laufen", "marcher", "fonctionner", "funcionar",
})
# Breaking down: a tool, machine or system failed ("crashed", "pifou", "se estropeó").
BREAKING = frozenset({
    "break", "crash", "freeze",
    "abstürzen", "ausfallen", "streiken", "kaputtgehen", "spinnen",
    "planter", "casser", "lâcher",
    "romper", "estropear", "averiar", "fallar", "estragar", "quebrar", "pifar", "travar",
})
# What others owe the client: answering, sending, delivering, approving. Negated with someone
# else as the subject, the client is waiting ("the council still haven't sent the permit").
DELIVERING = frozenset({
    "send", "reply", "answer", "respond", "deliver", "return", "approve", "confirm", "sign",
    "schicken", "senden", "antworten", "liefern", "melden", "zurückrufen", "bestätigen",
    "freigeben", "envoyer", "répondre", "livrer", "rappeler", "confirmer", "valider", "signer",
    "enviar", "responder", "contestar", "entregar", "devolver", "confirmar", "aprobar", "firmar",
    "retornar", "aprovar", "assinar", "give", "provide", "geben", "donner", "fournir",
    "transmettre", "pasar", "dar", "mandar", "passar",
})
# Moving a date: any form is a moving cue ("movemos", "décalons", "verschiebe", "adiamos").
MOVING = frozenset({
    "move", "postpone", "push", "delay", "shift", "reschedule", "bump",
    "verschieben", "verlegen", "aufschieben",
    "reporter", "décaler", "repousser", "déplacer", "différer",
    "mover", "aplazar", "posponer", "retrasar", "postergar",
    "adiar", "remarcar", "empurrar",
})
# Families of an action's verb: a past form of any member completes an action of any member
# ("posted" the application to "send"; "eingeworfen" the letter to "schicken").
FAMILIES = (
    frozenset({
        "send", "post", "mail", "email", "submit", "file", "dispatch", "return",
        "schicken", "senden", "einwerfen", "einreichen", "abschicken", "verschicken", "versenden",
        "absenden", "abgeben", "rausschicken", "wegschicken", "zuschicken",
        "envoyer", "poster", "expédier", "transmettre", "déposer", "soumettre", "adresser",
        "enviar", "mandar", "remitir", "presentar", "entregar",
        "submeter", "despachar", "postar",
    }),
    frozenset({
        "call", "ring", "phone", "speak", "talk",
        "anrufen", "telefonieren", "sprechen",
        "appeler", "téléphoner", "parler", "joindre",
        "llamar", "hablar", "telefonear", "ligar", "telefonar", "falar",
    }),
    frozenset({
        "book", "reserve", "schedule", "arrange",
        "buchen", "reservieren", "ausmachen", "vereinbaren",
        "réserver", "reservar", "agendar", "marcar", "apartar",
    }),
    frozenset({
        "register", "enrol", "enroll", "sign", "join", "apply",
        "anmelden", "einschreiben", "bewerben",
        "inscrire", "postuler", "inscribir", "apuntar", "inscrever", "candidatar",
    }),
    frozenset({
        "buy", "order", "purchase", "kaufen", "bestellen", "besorgen", "acheter", "commander",
        "comprar", "pedir", "encomendar",
    }),
    frozenset({
        "pay", "transfer", "bezahlen", "zahlen", "überweisen", "payer", "virer", "pagar", "abonar",
    }),
    frozenset({
        "write", "draft", "schreiben", "formulieren", "verfassen", "écrire", "rédiger",
        "escribir", "redactar", "escrever", "redigir",
    }),
    frozenset({
        "tidy", "clear", "clean", "declutter", "sort", "aufräumen", "ausmisten", "entrümpeln",
        "putzen", "ranger", "nettoyer", "trier", "vider", "ordenar", "limpiar", "vaciar",
        "recoger", "arrumar", "limpar", "organizar", "esvaziar",
    }),
    frozenset({
        "ask", "request", "fragen", "bitten", "anfragen", "demander", "solicitar", "pedir",
    }),
)
# fmt: on


def family(lemma: str) -> frozenset[str]:
    """The verbs that do what `lemma` does (itself included); German separable verbs
    ("rausschicken") by their base ("schicken")."""
    found: set[str] = {lemma}
    for members in FAMILIES:
        if lemma in members or any(len(m) > 4 and lemma.endswith(m) for m in members):
            found |= members
    return frozenset(found)
