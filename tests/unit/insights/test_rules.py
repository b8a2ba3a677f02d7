"""Moderation screen, topics, trends, idea rules and the SVG chart."""

from __future__ import annotations

import pytest

from allo.domain.errors import IllegalTransition
from allo.insights.chart import stacked_bars
from allo.insights.ideas import IdeaStatus, check_idea_transition, make_title
from allo.insights.moderation import Concern, screen
from allo.insights.topics import assign_topic, find_topics, topic_tokens
from allo.insights.trends import AlertRule, ProblemRate, problem_rate_jumped, rising_topics


def test_screen_refuses_insults_and_health_data_but_not_harsh_words_about_a_service() -> None:
    assert screen("Votre conseiller est un CONNARD").concerns == {Concern.INSULT}
    assert screen("je suis enceinte, livrez au rez-de-chaussée").concerns == {Concern.HEALTH}
    assert screen("en arrêt maladie, je ne peux pas me déplacer").concerns == {Concern.HEALTH}
    assert screen("Ajoutez un mode sombre, l'appli actuelle est nulle").acceptable
    hit = screen("bande d'abrutis, j'ai un cancer")
    assert hit.concerns == {Concern.INSULT, Concern.HEALTH}
    assert hit.terms == ("abrutis", "cancer")


def test_topics_group_texts_by_their_terms_and_label_them() -> None:
    texts = [
        "coupure fibre à Lyon depuis ce matin",
        "plus de fibre à Lyon, coupure totale",
        "la fibre est coupée à Lyon 7",
        "colis jamais livré, le livreur dit absent",
        "mon colis n'est pas livré",
        "colis abîmé à la livraison",
    ]
    topics, assignment = find_topics(texts, k=2)
    assert len(topics) == 2
    assert assignment[0] == assignment[1] == assignment[2] != assignment[3]
    assert assignment[3] == assignment[4] == assignment[5]
    fibre = topics[assignment[0]] if topics[0].key == assignment[0] else topics[1]
    assert "fibre" in fibre.label
    pairs = [(t.key, t.terms) for t in topics]
    assert assign_topic("encore une coupure de fibre", pairs) == assignment[0]
    assert assign_topic("rien à voir", pairs) is None


def test_topic_tokens_drop_placeholders_stop_words_and_plurals() -> None:
    assert topic_tokens("Bonjour [NOM], mes factures sont fausses") == ["facture", "fausse"]


def test_problem_rate_jump_needs_volume_rate_and_rise() -> None:
    rule = AlertRule(min_contacts=5, min_rate=0.5, min_rise=0.25, min_ratio=1.5)
    assert problem_rate_jumped(ProblemRate(8, 7, 40, 8), rule)
    assert not problem_rate_jumped(ProblemRate(4, 4, 40, 8), rule)  # too few contacts
    assert not problem_rate_jumped(ProblemRate(10, 6, 40, 22), rule)  # was already high
    assert problem_rate_jumped(ProblemRate(6, 6, 0, 0), rule)  # a new topic, all problems


def test_rising_topics_rank_by_smoothed_growth() -> None:
    rises = rising_topics({1: 12, 2: 3, 3: 5, 4: 1}, {1: 2, 2: 0, 3: 6})
    assert [r.topic_id for r in rises] == [1, 2]
    assert rises[0].growth == pytest.approx(13 / 3)


def test_idea_lifecycle() -> None:
    check_idea_transition(IdeaStatus.PROPOSED, IdeaStatus.PUBLISHED)
    check_idea_transition(IdeaStatus.PUBLISHED, IdeaStatus.PLANNED)
    check_idea_transition(IdeaStatus.PLANNED, IdeaStatus.DONE)
    with pytest.raises(IllegalTransition):
        check_idea_transition(IdeaStatus.DONE, IdeaStatus.PUBLISHED)


def test_titles_are_the_first_sentence_cut_at_a_word() -> None:
    assert make_title("Un mode sombre. Et aussi le reste.") == "Un mode sombre."
    long = "mot " * 60
    title = make_title(long)
    assert len(title) <= 120 and title.endswith("…")


def test_chart_is_an_svg_with_one_bar_segment_per_count() -> None:
    svg = stacked_bars(
        ["2026-03-01", "2026-03-02"],
        {"2026-03-01": {"problem": 2, "idea": 1}, "2026-03-02": {"question": 4}},
        ["question", "problem", "idea", "praise"],
        {"question": "Questions", "problem": "Problèmes", "idea": "Idées", "praise": "Bravo"},
        "Contacts <par> jour",
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<rect") == 3 + 4  # bars + legend
    assert "Contacts &lt;par&gt; jour" in svg
