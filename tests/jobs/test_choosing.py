"""The learning loop's choice (jobs.choosing with jobs.questions): Thompson draws, their
prior, their determinism, and the depth rules they never override."""

from __future__ import annotations

from jobs.choosing import PRIOR_WEIGHT, REASON_WEIGHT, Counts, posterior, sampled_scores
from jobs.questions import DEFAULT_BANK, QuestionBank, choose_questions

IDS = [q.id for q in DEFAULT_BANK.questions]
NONE = Counts({}, {})
SEEDS = [f"c{n}:1:overdue-1d" for n in range(200)]


def counts(**asked_answered: tuple[int, int]) -> Counts:
    asked = {k.replace("_", "-"): s for k, (s, _) in asked_answered.items()}
    answered = {k.replace("_", "-"): a for k, (_, a) in asked_answered.items()}
    return Counts(asked, answered)


def chosen(client: Counts, firm: Counts, seed: str, **kw: object) -> str:
    scores = sampled_scores(DEFAULT_BANK.questions, client, firm, seed)
    return choose_questions(DEFAULT_BANK, 1, None, 1, seed, scores=scores, **kw)[0].id  # type: ignore[arg-type]


def test_counts_are_read_from_the_stored_hash_and_bad_values_count_zero() -> None:
    found = Counts.from_hash({"s:why-gives": "4", "a:why-gives": "9", "s:x": "oops", "other": "1"})
    assert found.of("why-gives") == (4, 4)  # never more answers than emails
    assert found.of("x") == (0, 0) and found.of("missing") == (0, 0)


def test_the_firms_answers_are_a_prior_worth_at_most_ten_of_the_clients_emails() -> None:
    firm = counts(why_gives=(1000, 800))
    assert posterior(NONE, firm, "why-gives") == (1 + 8.0, 1 + 2.0)
    assert PRIOR_WEIGHT == 10.0
    client = counts(why_gives=(4, 0))
    assert posterior(client, firm, "why-gives") == (9.0, 7.0)  # the client's silences count
    assert posterior(NONE, NONE, "never-asked") == (1.0, 1.0)  # uniform: nothing starves


def test_answers_to_a_questions_reason_count_for_it_worth_at_most_five_emails() -> None:
    client = counts(why_goal=(20, 20), why_still=(0, 0), why_gives=(1, 0))
    kin = ["why-goal", "why-still"]
    assert posterior(client, NONE, "why-gives", kin) == (1 + 5.0, 1 + 0.0 + 1)
    assert REASON_WEIGHT == 5.0


def test_the_same_seed_draws_the_same_whatever_the_banks_order() -> None:
    client = counts(why_gives=(3, 2), partnering_way=(3, 0))
    first = sampled_scores(DEFAULT_BANK.questions, client, NONE, "c1:1:overdue-4d")
    assert first == sampled_scores(
        reversed(DEFAULT_BANK.questions), client, NONE, "c1:1:overdue-4d"
    )
    assert first != sampled_scores(DEFAULT_BANK.questions, client, NONE, "c1:1:overdue-9d")
    reversed_bank = QuestionBank(questions=tuple(reversed(DEFAULT_BANK.questions)))
    assert choose_questions(reversed_bank, 1, None, 1, "s", scores=first) == choose_questions(
        DEFAULT_BANK, 1, None, 1, "s", scores=first
    )


def test_the_questions_and_reason_a_client_answers_are_preferred_and_others_still_asked() -> None:
    client = counts(
        why_gives=(6, 6), why_still=(3, 3), partnering_way=(6, 0), partnering_now=(6, 0)
    )
    picks = [chosen(client, NONE, seed) for seed in SEEDS]
    assert picks.count("why-gives") > 0.4 * len(SEEDS)
    # "why-goal" was never asked, but its reason is answered: it beats the other new ones.
    assert picks.count("why-goal") > picks.count("story-noticing")
    # Questions never asked (Beta(1, 1)) still win some draws: exploration.
    assert {"resources-easier", "story-noticing", "self-trust-smallest"} & set(picks)
    assert "partnering-way" not in picks[:50]
    without = [choose_questions(DEFAULT_BANK, 1, None, 1, s)[0].id for s in SEEDS]
    assert without.count("why-gives") < 0.3 * len(SEEDS)  # the rotation spreads evenly


def test_a_new_client_starts_from_what_the_firm_answers() -> None:
    firm = counts(story_noticing=(500, 450), why_gives=(500, 50), partnering_way=(500, 50))
    picks = [chosen(NONE, firm, seed) for seed in SEEDS]
    # Depth 1 has 7 questions (1 in 7 by rotation); the four no one was asked yet still
    # get their turns, so the firm's favourite leads without taking every email.
    assert picks.count("story-noticing") > 0.4 * len(SEEDS)
    assert picks.count("why-gives") < picks.count("story-noticing") / 4


def test_the_depth_rules_hold_whatever_the_client_answers() -> None:
    # A client who answers only a deep question still gets a light one on day 1 ...
    deep = {q: 1.0 if q == "story-true" else 0.0 for q in IDS}
    [question] = choose_questions(DEFAULT_BANK, 1, None, 1, "s", scores=deep)
    assert question.depth == 1
    # ... never the last email's question again, however well it is answered ...
    best = {q: 1.0 if q == "why-gives" else 0.0 for q in IDS}
    assert choose_questions(DEFAULT_BANK, 1, "why-gives", 1, "s", scores=best)[0].id != "why-gives"
    # ... and a partnering question opens the first email about an action.
    first = choose_questions(DEFAULT_BANK, 1, None, 2, "s", scores=best, first_contact=True)
    assert first[0].reason == "partnering"
