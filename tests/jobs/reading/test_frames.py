"""Frames, not phrases: a removal verb with the client as object, a writing verb negated with
"more", withdrawing from the coaching, a request put as a question; and where each stops."""

from __future__ import annotations

from datetime import date

import pytest

from jobs.reading.intent import Asked, classify_intent

MONDAY = date(2026, 12, 7)
DUE = date(2026, 12, 9)
# The same step in each language: the client writes in the language of the step.
ATTIC = {
    "en": "clear out the attic", "de": "den Dachboden entrümpeln", "fr": "vider le grenier",
    "es": "vaciar el desván", "pt": "esvaziar o sótão",
}  # fmt: skip


def _read(text: str, action: str = "clear out the attic") -> tuple[str, float, str]:
    reading = classify_intent(text, MONDAY, asked=[Asked(action, DUE)])
    return reading.intent, reading.confidence, " ".join(reading.reasons)


@pytest.mark.parametrize(
    "text",
    [
        "Could you remove me from this distribution list?",
        "Bitte nehmt mich aus eurem Verteiler raus.",
        "Pourriez-vous me retirer de la liste de diffusion ?",
        "Desuscríbanme, por favor.",
        "Désinscrivez-moi de ces rappels.",
        "Quero me desinscrever destes lembretes.",
        "Can you stop writing to me? Thanks.",
        "Bitte schickt mir keine Nachrichten mehr, danke.",
        "Please don't email me again about this.",
        "Merci de ne plus m'envoyer de relances.",
        "No me escriban más, gracias.",
        "Por favor, não me mandem mais lembretes.",
        "I'm going to step back from the coaching for good.",
        "Je veux mettre fin à l'accompagnement.",
        "Podes cancelar o envio dos lembretes?",
    ],
)
def test_stop_frames(text: str) -> None:
    """Any member of a stop frame is heard, in inflections the cue lists never spelt out."""
    intent, confidence, reasons = _read(text)
    assert intent == "stop", reasons
    assert confidence >= 0.8, reasons


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Honestly I think we should leave it there.", "the emails or only the step?"),
        ("Ehrlich gesagt setzen mich die Mails unter Druck.", "may want them to stop"),
        ("Ces rappels me stressent plus qu'autre chose.", "may want them to stop"),
    ],
)
def test_a_possible_stop_is_a_stop_the_coach_confirms(text: str, why: str) -> None:
    """Ending it here, or the emails weighing on the client: stop, but unsure (the daemon
    pauses and asks the coach)."""
    intent, confidence, reasons = _read(text)
    assert intent == "stop", reasons
    assert confidence < 0.7
    assert why in reasons


def test_a_possible_stop_yields_to_a_firmer_reading() -> None:
    """The emails weigh on the client, but the step is done: done, less sure, stop named."""
    intent, confidence, reasons = _read("The reminders stress me a bit. Anyway, attic's done!")
    assert intent == "done", reasons
    assert confidence < 0.8
    assert "a possible stop set aside" in reasons


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("Wrapped it up last night.", "clear out the attic"),
        ("Alles abgehakt, war weniger als gedacht.", "den Dachboden entrümpeln"),
        ("Hab die Liste komplett abgearbeitet.", "den Dachboden entrümpeln"),
        ("Terminé hier soir, enfin !", "vider le grenier"),
        ("Ya lo resolví esta mañana.", "vaciar el desván"),
        ("Concluí ontem à noite.", "esvaziar o sótão"),
        ("Posted it on my way in this morning.", "send the complaint letter"),
        ("Hab den Brief heute früh eingeworfen.", "den Brief an die Versicherung schicken"),
        ("J'ai expédié le colis ce matin.", "envoyer le colis"),
        ("Le telefoneé al casero ayer.", "llamar al casero"),
    ],
)
def test_done_by_completing_verb_or_action_family(text: str, action: str) -> None:
    """A completing verb in a past form, or a past form of a verb of the action's family."""
    intent, _, reasons = _read(text, action)
    assert intent == "done", reasons


def test_a_draft_is_done_when_the_step_is_the_draft() -> None:
    intent, _, reasons = _read("The first draft is written!", "write a first draft of the speech")
    assert intent == "done", reasons


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Konnte leider nicht anfangen, der Schlüssel fehlt.", "de"),
        ("Ich kann da gerade nichts machen.", "de"),
        ("Je n'arrive toujours pas à me lancer.", "fr"),
        ("No logré avanzar nada esta semana.", "es"),
        ("Não consegui nem começar.", "pt"),
        ("The scanner doesn't work any more.", "en"),
        ("Le scanner ne fonctionne plus.", "fr"),
        ("Mein Drucker funktioniert seit gestern nicht.", "de"),
        ("My laptop crashed and took the file with it.", "en"),
        ("Se me estropeó el coche.", "es"),
        ("I honestly don't know where to start.", "en"),
        ("Je ne sais vraiment pas par où commencer.", "fr"),
    ],
)
def test_blocked_by_frames(text: str, lang: str) -> None:
    """An ability or working verb under negation, a breaking-down verb, not knowing how."""
    intent, _, reasons = _read(text, ATTIC[lang])
    assert intent == "blocked", reasons


def test_an_action_about_emails_keeps_its_date() -> None:
    reading = classify_intent(
        "I'll get through the emails until Friday.", MONDAY, asked=[Asked("answer the emails", DUE)]
    )
    assert reading.pause_until is None


@pytest.mark.parametrize(
    ("text", "action", "not_intent"),
    [
        # stop: the client's own sending, a "me" that is no removal, a question that asks
        ("I won't send anything more until the plumber has been.", ATTIC["en"], "stop"),
        ("Let me take a look at the reminders you sent and get back to you.", ATTIC["en"], "stop"),
        ("Ich schreibe dir nicht mehr so lange Mails, versprochen.", ATTIC["de"], "stop"),
        ("Should I step back from the newsletter part?", ATTIC["en"], "stop"),
        # done: a part, a draft, someone else's doing, a noun ("en fait", "la lista")
        ("The first draft is written, the rest is still a mess.", "write the speech", "done"),
        ("Presque terminé, il me reste la cave.", ATTIC["fr"], "done"),
        ("Mi vecina, que ya lo ha terminado, me va a ayudar.", ATTIC["es"], "done"),
        ("En fait je n'ai pas encore commencé.", ATTIC["fr"], "done"),
        ("Lo pondré en la lista de cosas pendientes.", ATTIC["es"], "done"),
        # blocked: the client reserving time, "a break" the noun
        ("J'ai bloqué le samedi matin pour ça.", ATTIC["fr"], "blocked"),
        ("I've blocked out Friday afternoon for it.", ATTIC["en"], "blocked"),
        ("Taking a break over Christmas, back at it after.", ATTIC["en"], "blocked"),
    ],
)
def test_frames_need_their_parts(text: str, action: str, not_intent: str) -> None:
    """Each frame needs all its parts, in scope: a cue word alone decides nothing."""
    intent, _, reasons = _read(text, action)
    assert intent != not_intent, reasons


@pytest.mark.parametrize(
    ("text", "lang", "new_due", "pause_until"),
    [
        # the emails themselves held until a day: a pause, no new date for the step
        ("Could you hold the reminders until 4 January?", "en", None, date(2027, 1, 4)),
        ("Bitte bis zum 10.1. keine Mails.", "de", None, date(2027, 1, 10)),
        ("Pouvez-vous suspendre les relances jusqu'au 5 janvier ?", "fr", None, date(2027, 1, 5)),
        ("¿Puedes parar los avisos hasta el 8 de enero?", "es", None, date(2027, 1, 8)),
        # any form of a moving verb moves the date
        ("¿Lo movemos al 15?", "es", date(2026, 12, 15), None),
        ("On décale au 16 ?", "fr", date(2026, 12, 16), None),
        ("Ich verschiebe es auf den 17.", "de", date(2026, 12, 17), None),
        ("Adiamos para dia 18?", "pt", date(2026, 12, 18), None),
    ],
)
def test_held_emails_pause_and_moving_verbs_move(
    text: str, lang: str, new_due: date | None, pause_until: date | None
) -> None:
    reading = classify_intent(text, MONDAY, asked=[Asked(ATTIC[lang], DUE)])
    assert (reading.new_due, reading.pause_until) == (new_due, pause_until), reading.reasons
    assert reading.intent == ("reschedule" if new_due else "note")
    assert reading.confidence >= 0.8


@pytest.mark.parametrize(
    ("text", "action", "intent", "new_due"),
    [
        # someone else's turn, a device that gave up, help asked with a day after "with me"
        ("The ball's in the landlord's court now.", ATTIC["en"], "blocked", None),
        ("Das liegt jetzt beim Vermieter.", ATTIC["de"], "blocked", None),
        ("Todo está en manos del casero.", ATTIC["es"], "blocked", None),
        ("My old phone finally gave up the ghost.", ATTIC["en"], "blocked", None),
        ("Could you sit down with me on Friday morning?", ATTIC["en"], "blocked", None),
        # someone else owes an answer; not the step's own object nor the client
        ("The landlord still hasn't replied to my email.", "fix the boiler", "blocked", None),
        ("Der Vermieter hat sich immer noch nicht gemeldet.", "die Heizung reparieren", "blocked",
         None),
        ("Le notaire n'a toujours pas répondu.", "signer le compromis", "blocked", None),
        ("El banco no ha contestado todavía.", "abrir la cuenta", "blocked", None),
        ("The bank won't open the account without a payslip.", "open the account", "blocked",
         None),
        ("No sé qué hacer con los muebles, ¿me puedes ayudar?", ATTIC["es"], "blocked", None),
        ("Nobody's answering at the town hall.", "book the wedding hall", "blocked", None),
        ("Das Restaurant geht nicht ans Telefon.", "einen Tisch reservieren", "blocked", None),
        ("The venue is fully booked, I'll try another.", "book the venue", "note", None),
        ("Tu peux me laisser jusqu'au 16 ?", ATTIC["fr"], "reschedule", date(2026, 12, 16)),
        ("Meu chefe ainda não mandou os números.", "escrever o resumo", "blocked", None),
        # a fraction is a part; a negation does not reach past a comma
        ("Started today, about a third written.", "write the summary", "note", None),
        ("Zwei Drittel sind geschrieben.", "die Zusammenfassung schreiben", "note", None),
        ("I can't believe how quick it was, all written!", "write the summary", "done", None),
        # waiting on an answer to a step done is done; not when the step's verb is negated
        ("Form sent off, now I'm waiting to hear back.", "send the form", "done", None),
        ("It's ready, but I'm waiting for the photo; I won't send it without.", "send the form",
         "blocked", None),
        ("The report isn't sent yet, crazy week.", "send the report", "note", None),
        ("I haven't sent it yet.", "send the report", "note", None),
        ("Ich komme einfach nicht voran.", ATTIC["de"], "blocked", None),
        ("Je n'avance plus du tout.", ATTIC["fr"], "blocked", None),
        ("Estou à espera que o senhorio me devolva a chave.", ATTIC["pt"], "blocked", None),
        # stop: the client's address removed, "no further emails", leaving the programme
        ("Please remove my address from your system.", ATTIC["en"], "stop", None),
        ("Ich möchte keine weiteren E-Mails von Ihnen erhalten.", ATTIC["de"], "stop", None),
        ("Ich steige aus dem Programm aus.", ATTIC["de"], "stop", None),
        ("Quero sair do programa, obrigada por tudo.", ATTIC["pt"], "stop", None),
        ("These reminders are a lot right now — please stop.", ATTIC["en"], "stop", None),
        # the action's family: clearing out is tidying
        ("All cleared out, you can park in there now!", "tidy the garage", "done", None),
        ("¿Podemos pasarlo al lunes 14?", ATTIC["es"], "reschedule", date(2026, 12, 14)),
        # completion: a superlative, the contracted "'s in", a misspelt "c'est fait"
        ("Terminadísimo!", ATTIC["es"], "done", None),
        ("Form's in!", ATTIC["en"], "done", None),
        ("c bon cest fais", ATTIC["fr"], "done", None),
        # a day proposed, "a week from <weekday>", "fim da semana (que vem)"
        ("Pencil me in for a week from Wednesday?", ATTIC["en"], "reschedule", date(2026, 12, 16)),
        ("How about the 14th?", ATTIC["en"], "reschedule", date(2026, 12, 14)),
        ("Schaffe ich erst nächste Woche Mittwoch.", ATTIC["de"], "reschedule", date(2026, 12, 16)),
        ("Lo dejo para el miércoles de la semana que viene.", ATTIC["es"], "reschedule",
         date(2026, 12, 16)),
        ("¿Qué tal el jueves 17?", ATTIC["es"], "reschedule", date(2026, 12, 17)),
        ("Até ao fim da semana que vem fica pronto.", ATTIC["pt"], "reschedule",
         date(2026, 12, 18)),
        # dates that are not new due dates: someone's event, a plan before the agreed day, the
        # day of what follows a completion
        ("On Saturday I'm going to my cousin's wedding.", ATTIC["en"], "note", None),
        ("Je serai en déplacement lundi prochain.", ATTIC["fr"], "note", None),
        ("Lo que falta lo hago mañana.", ATTIC["es"], "note", None),
        ("Je me suis inscrite, premier cours jeudi soir !", "m'inscrire au cours de poterie",
         "done", None),
        ("The letters went out on Monday, now we wait.", "send the letters", "done", None),
        ("Erledigt, die Übergabe ist dann am 18.", "den Schlüssel abholen", "done", None),
        ("Ya he pedido la mesa, nos la dieron para el viernes 18.", "pedir mesa en el restaurante",
         "done", None),
    ],
)  # fmt: skip
def test_intent_and_date_classes(text: str, action: str, intent: str, new_due: date | None) -> None:
    reading = classify_intent(text, MONDAY, asked=[Asked(action, DUE)])
    assert (reading.intent, reading.new_due) == (intent, new_due), reading.reasons


@pytest.mark.parametrize(
    ("text", "per"),
    [
        ("Ambas hechas.", (("done", None), ("done", None))),
        ("J'ai fait l'un et l'autre.", (("done", None), ("done", None))),
        ("1 ok\n2 👍", (("done", None), ("done", None))),
        # within one line, each part (sentence, comma, "and") to the commitment its words name
        ("Rang the bank, they were lovely. Dentist: no answer yet.",
         (("done", None), ("blocked", None))),
        ("Al banco ya lo llamé; al dentista le pido cita el sábado.",
         (("done", None), ("reschedule", date(2026, 12, 12)))),
        ("The bank call is done, and the dentist I'll book on the 19th.",
         (("done", None), ("reschedule", date(2026, 12, 19)))),
    ],
)  # fmt: skip
def test_several_commitments(text: str, per: tuple[tuple[str, date | None], ...]) -> None:
    """All at once, by assent per line, or by the action's words inside one line."""
    english = [Asked("call the bank", DUE), Asked("book the dentist", DUE)]
    spanish = [Asked("llamar al banco", DUE), Asked("pedir cita al dentista", DUE)]
    asked = spanish if "ñ" in text or "llam" in text else english
    reading = classify_intent(text, MONDAY, asked=asked)
    assert tuple((r.intent, r.new_due) for r in reading.per_commitment) == per, reading.reasons
