"""Retrieval's pure functions, no index: fusion, question checks, aliases, stance, cues, confidence, ranker."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from ingest.lexical import tokenize
from retrieval.aliases import MAX_ALIASES, MAX_EXPANSION, AliasTable
from retrieval.confidence import FEATURES as CONFIDENCE_FEATURES, Calibration, load_calibration
from retrieval.cues import answer_types, answered_stems, defines, describes_after_dash, has_answer_shape, wants_list
from retrieval.group import asks_whether, stance
from retrieval.query import MAX_QUESTION_CHARS, QuestionError, check_question
from retrieval.ranker import FEATURES, Ranker, fit_listwise, fit_logistic
from retrieval.search import Ranking, reciprocal_rank_fusion


# -- reciprocal rank fusion ------------------------------------------------------------------------------

def test_fusion_sums_reciprocal_ranks_and_orders_by_score():
    dense = [(1, 0.9), (2, 0.8), (3, 0.7)]
    lexical = [(3, 12.0), (1, 4.0)]  # the scores themselves play no part, only the ranks
    fused = reciprocal_rank_fusion([dense, lexical], k=60)
    assert [item for item, _ in fused] == [1, 3, 2]
    assert [score for _, score in fused] == pytest.approx([1 / 61 + 1 / 62, 1 / 63 + 1 / 61, 1 / 62])


def test_fusion_weights_each_ranking():
    fused = dict(reciprocal_rank_fusion([[(1, 0.0), (2, 0.0)], [(2, 0.0)]], k=1, weights=[1.0, 3.0]))
    assert fused == pytest.approx({1: 1 / 2, 2: 1 / 3 + 3 / 2})


def test_fusion_breaks_ties_by_id():
    fused = reciprocal_rank_fusion([[(7, 1.0), (5, 1.0)], [(5, 1.0), (7, 1.0)]])
    assert [item for item, _ in fused] == [5, 7]
    assert fused[0][1] == fused[1][1]


def test_fusion_of_nothing_is_empty():
    assert reciprocal_rank_fusion([]) == []
    assert reciprocal_rank_fusion([[], []]) == []


@pytest.mark.parametrize("k", [0, -60])
def test_fusion_refuses_k_below_one(k):
    with pytest.raises(ValueError, match=f"k must be greater than 0, got {k}"):
        reciprocal_rank_fusion([[(1, 1.0)]], k=k)


def test_fusion_refuses_a_weight_count_other_than_the_ranking_count():
    with pytest.raises(ValueError, match="got 1 weights for 2 rankings"):
        reciprocal_rank_fusion([[(1, 1.0)], [(2, 1.0)]], weights=[1.0])
    with pytest.raises(ValueError, match="got 3 weights for 2 rankings"):
        reciprocal_rank_fusion([[(1, 1.0)], [(2, 1.0)]], weights=[1.0, 1.0, 1.0])


def test_fusion_refuses_an_empty_weight_list_for_two_rankings():
    with pytest.raises(ValueError, match="got 0 weights for 2 rankings"):
        reciprocal_rank_fusion([[(1, 1.0)], [(2, 1.0)]], weights=[])


def test_pool_moves_up_the_leaders_that_fusion_put_below_the_first_chunks():
    fused = [(10, 0.5), (11, 0.4), (12, 0.3), (13, 0.2), (14, 0.1)]
    ranking = Ranking(fused, {}, leaders=(11, 14, 99))  # 11 is already first-two; 99 was never fused
    ordered, count = ranking.pool(2)
    assert count == 3
    assert ordered == [(10, 0.5), (11, 0.4), (14, 0.1), (12, 0.3), (13, 0.2)]


def test_pool_without_leaders_is_the_fused_ranking():
    fused = [(1, 0.3), (2, 0.2), (3, 0.1)]
    assert Ranking(fused, {}).pool(2) == (fused, 2)
    assert Ranking(fused, {}, leaders=(3,)).pool(5) == (fused, 3)  # fewer chunks than asked for


# -- question checks -------------------------------------------------------------------------------------

@pytest.mark.parametrize("question", ["", "   ", "\n\t \r\n"])
def test_empty_question_is_refused(question):
    with pytest.raises(QuestionError, match="the question is empty"):
        check_question(question)


def test_very_long_question_is_refused_with_its_length():
    question = "x" * 100_000
    with pytest.raises(QuestionError, match=f"100000 characters long; please keep it under {MAX_QUESTION_CHARS}"):
        check_question(question)


def test_question_at_the_length_limit_passes():
    question = "Is twitching bad" + "?" * (MAX_QUESTION_CHARS - len("Is twitching bad"))
    assert check_question(question) == question


@pytest.mark.parametrize("question, code, position", [
    ("Is twitching\x07 bad?", "U+0007", 12),
    ("\x00Is twitching bad?", "U+0000", 0),
    ("Is it\x1b[31m MS?", "U+001B", 5),
])
def test_control_character_is_named_with_its_code_and_position(question, code, position):
    with pytest.raises(QuestionError, match=re.escape(f"control character ({code} at position {position})")):
        check_question(question)


def test_invisible_format_characters_pasted_from_web_pages_are_dropped():
    assert check_question("\ufeffIs twitching\u200b bad?") == "Is twitching bad?"


@pytest.mark.parametrize("question", [
    "¿Es el temblor muscular un síntoma de la esclerosis múltiple?",  # Spanish
    "¿Qué causa los espasmos musculares?",
    "Les contractions musculaires sont-elles un symptôme de la sclérose en plaques?",  # French
    "Est-ce que la caféine provoque des tremblements?",
    "肌肉抽搐是多发性硬化症的症状吗？",  # Chinese
    "Мышечные подергивания — симптом рассеянного склероза?",  # Russian
])
def test_question_not_in_english_is_refused(question):
    with pytest.raises(QuestionError, match="the articles are in English: please ask the question in English"):
        check_question(question)


@pytest.mark.parametrize("question", [
    "Is muscle twitching a sign of MS?",
    "Is muscel twiching a sign of MS?",  # misspelt
    "what causes eye twitching",  # no capital, no question mark
    "Is a café au lait spot related to NF1?",  # borrowed words
    "How long do fasciculations last after exercise?",
    "Is it a déjà vu or a symptom?",
])
def test_english_question_passes_unchanged(question):
    assert check_question(question) == question


def test_whitespace_is_normalised():
    assert check_question("  What  causes\n\tmuscle\r\ntwitching?\n") == "What causes muscle twitching?"


def test_question_without_words_is_refused():
    with pytest.raises(QuestionError, match="has no words in it"):
        check_question("12345 ???")


def test_non_text_question_is_refused():
    with pytest.raises(QuestionError, match="must be text, got int"):
        check_question(42)


# -- aliases ---------------------------------------------------------------------------------------------

ALIAS_ROWS = [
    ("ALS", "amyotrophic lateral sclerosis"),
    ("Lou Gehrig disease", "ALS"),  # shares a name with the first pair, but pairs are never chained
    ("fasciculations", "muscle twitches"),
    ("muscle twitching", "fasciculations"),  # same stems as "muscle twitches": the same name
    ("the", "ALS"),  # no content words: ignored
]
# In how many chunks each stem occurs: "twitch" is rarer than "muscl", so it decides whether a name matches.
DF = {"al": 2, "muscl": 10, "twitch": 3, "fascicul": 2, "pain": 4}


def df(stem: str) -> int:
    return DF.get(stem, 0)


def test_alias_pairs_are_kept_pair_by_pair_in_both_directions():
    table = AliasTable.from_rows(ALIAS_ROWS)
    assert table.aliases == {
        ("al",): {("amyotroph", "lateral", "sclerosi"), ("lou", "gehrig", "diseas")},
        ("amyotroph", "lateral", "sclerosi"): {("al",)},  # not "Lou Gehrig disease": no chains
        ("lou", "gehrig", "diseas"): {("al",)},
        ("fascicul",): {("muscl", "twitch")},
        ("muscl", "twitch"): {("fascicul",)},
    }
    # each name keeps one way the articles wrote it
    assert table.surfaces[("muscl", "twitch")] == "muscle twitches"
    assert table.names_with("twitch") == {("muscl", "twitch")}


def test_everyday_word_reaches_the_medical_term():
    table = AliasTable.from_rows(ALIAS_ROWS + [("twitching", "fasciculations")])  # "twitching (fasciculations)"
    stems = tokenize(["does twitching hurt"])[0]
    assert table.lookup(stems, df).stems == ["fascicul"]
    assert table.lookup(stems, df).names == ["fasciculations"]
    assert AliasTable.from_rows(ALIAS_ROWS).lookup(tokenize(["twitching muscles"])[0], df).names == ["fasciculations"]


def test_a_two_word_name_needs_both_words_and_a_longer_one_all_but_one():
    table = AliasTable.from_rows([("blood cancer", "leukemia"), ("Lou Gehrig disease", "ALS")])
    frequency = {"blood": 40, "cancer": 30, "lou": 2, "gehrig": 1, "diseas": 50}.get
    assert table.lookup(tokenize(["What is skin cancer?"])[0], frequency).names == []  # not "blood cancer"
    assert table.lookup(tokenize(["blood cancer in children"])[0], frequency).names == ["leukemia"]
    assert table.lookup(tokenize(["is Lou Gehrig's fatal"])[0], frequency).names == ["ALS"]
    assert table.lookup(tokenize(["a disease named after Lou"])[0], frequency).names == []  # its rarest stem is missing


def test_a_two_word_name_is_named_by_its_rarer_word_when_the_other_is_in_nearly_every_chunk():
    table = AliasTable.from_rows([("stiff muscles", "spasticity"), ("blood cancer", "leukemia")])
    frequency = {"stiff": 6, "muscl": 84, "blood": 40, "cancer": 80, "leg": 30}.get
    legs = tokenize(["why do legs go stiff"])[0]
    assert table.lookup(legs, frequency, 84).names == ["spasticity"]  # "muscle" is in all 84 chunks
    assert table.lookup(legs, frequency, 200).names == []  # in 84 of 200 it still tells names apart
    assert table.lookup(legs, frequency).names == []  # no chunk count, no subject words
    assert table.lookup(tokenize(["muscles"])[0], frequency, 84).names == []  # the subject word alone names nothing
    assert table.lookup(tokenize(["skin cancer"])[0], frequency, 84).names == []  # "blood" is not a subject word
    assert table.lookup(tokenize(["blood tests"])[0], frequency, 84).names == ["leukemia"]


def test_a_common_word_alone_does_not_match_a_name():
    table = AliasTable.from_rows(ALIAS_ROWS)
    stems = tokenize(["muscle pain"])[0]  # holds "muscl" but not the name's rarest stem "twitch"
    assert table.lookup(stems, df).stems == []
    assert table.lookup(stems, df).names == []


def test_a_name_spelt_out_is_not_offered_again():
    table = AliasTable.from_rows(ALIAS_ROWS)
    assert table.lookup(tokenize(["muscle twitches"])[0], df).names == ["fasciculations"]
    assert table.lookup(tokenize(["Lou Gehrig"])[0], df).stems == ["al"]
    assert table.lookup(tokenize(["ALS"])[0], df).names == ["amyotrophic lateral sclerosis", "Lou Gehrig disease"]


def test_a_name_paired_with_many_names_is_a_general_word_and_not_expanded():
    eye = [("eye", name) for name in ("miosis", "leukocoria", "ptosis", "keratitis", "uveitis")]
    table = AliasTable.from_rows(eye[:MAX_ALIASES] + [("glaucoma", "raised eye pressure")])
    assert table.lookup(tokenize(["eye"])[0], df).names == ["keratitis", "leukocoria", "miosis", "ptosis"]
    table = AliasTable.from_rows(eye[:MAX_ALIASES + 1] + [("glaucoma", "raised eye pressure")])
    assert table.lookup(tokenize(["eye"])[0], df).names == []
    assert table.lookup(tokenize(["eye"])[0], df).stems == []
    assert table.lookup(tokenize(["miosis"])[0], df).names == ["eye"]  # the specific name still reaches the general one
    assert table.lookup(tokenize(["glaucoma"])[0], df).names == ["raised eye pressure"]


def test_a_query_gets_the_aliases_of_its_most_specific_names_first():
    rows = [("ALS", "amyotrophic lateral sclerosis"), ("ALS", "Lou Gehrig disease"), ("ALS", "motor neuron disease"),
            ("muscle", "musculature"), ("muscle", "muscular tissue"), ("fasciculations", "muscle twitches")]
    stems = tokenize(["ALS muscle twitches"])[0]  # "al" and "twitch" are rarer than "muscl"
    names = AliasTable.from_rows(rows).lookup(stems, df).names
    assert len(names) == MAX_EXPANSION == 4
    assert names == ["amyotrophic lateral sclerosis", "Lou Gehrig disease", "motor neuron disease", "fasciculations"]


def test_no_rows_make_an_empty_table():
    table = AliasTable.from_rows([])
    assert table.aliases == {}
    assert table.lookup(["twitch"], df).stems == []


# -- stance ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sentence, expected", [
    ("Twitching is a common symptom of MS.", 1),
    ("Weakness is the hallmark of ALS.", 1),
    ("Twitching is rarely a symptom of MS.", -1),
    ("Fasciculations are usually not a symptom of the disease.", -1),
    ("Twitching is a symptom of MS.", 0),  # no word of frequency either way
    ("Twitching alone doesn't indicate ALS.", 0),  # hedged: not on its own
    ("Twitching without other symptoms is rarely serious.", 0),
    ("If you experience frequent spasms, see a doctor.", 0),  # conditional
    ("When twitching is common, rest more.", 0),
])
def test_stance(sentence, expected):
    assert stance(sentence) == expected


@pytest.mark.parametrize("question, expected", [
    ("Is twitching a sign of MS?", True),
    ("My sister has MS and her calf twitches. So which is it, is twitching a normal part of MS?", True),
    ("I have MS, could the twitching be from it?", True),
    ("ms twitch?", True),
    ("What is tremor a symptom of?", False),
    ("Which symptom of neuropathy is tremor?", False),  # "is" inside a clause does not open one
    ("Tell me about tremor in neuropathy.", False),
    ("LMN definition pls", False),  # a fragment asking what a word means
    ("meaning of clonus", False),
])
def test_a_yes_no_question_may_open_any_sentence_or_clause(question, expected):
    assert asks_whether(question) is expected


def test_stance_of_not_uncommon_is_not_a_denial():
    assert stance("Twitching is not uncommon in people with MS.") == 1


def test_of_two_spans_taking_one_side_the_one_whose_side_taking_sentence_is_closer_to_the_question_is_shown():
    from dataclasses import replace

    from retrieval.group import Group, find_disagreement

    question = np.array([1.0, 0.0])
    lead_in = "Tremor troubles many people with PN."
    spans = [  # (article, sentences, probability, vector of each sentence)
        ("a", (lead_in, "Tremor in PN is a direct result of nerve damage."), 0.5, [[0.0, 1.0], [0.0, 1.0]]),
        ("a", ("Tremor is one of the more common symptoms of PN.",), 0.45, [[1.0, 0.0]]),
        ("b", ("Tremor is rarely a symptom of PN.",), 0.5, [[0.8, 0.6]]),
    ]
    groups = []
    for article, sentences, probability, vectors in spans:
        text = "\n\n".join(sentences)  # one paragraph each
        groups.append(Group(replace(_candidate(text), article_id=article, probability=probability,
                                    sentences=sentences, sentence_vectors=np.array(vectors))))
    terms = tokenize(["tremor sign PN"])[0]
    sides = find_disagreement("Is tremor a sign of PN?", groups, terms, AliasTable.from_rows([]), lambda stem: 1,
                              question, min_probability=0.1)
    assert sides == (groups[1], groups[2])  # 0.45 + 1.0 beats 0.5 + 0.0: the sentence asked about, not its cause
    assert [g.stance for g in groups] == [1, 1, -1]
    assert groups[0].head.text == "Tremor in PN is a direct result of nerve damage."  # shown from its side's paragraph


# -- answer types and list questions --------------------------------------------------------------------

@pytest.mark.parametrize("question, types, is_list", [
    ("What causes muscle twitching?", ["cause"], True),
    ("Which conditions cause twitching?", ["cause"], True),
    ("How long do twitches last?", ["time"], False),
    ("When should I see a doctor about twitching?", ["doctor"], False),
    ("What is ALS?", ["definition"], False),
    ("What does fasciculation mean?", ["definition"], False),
    ("What exactly is a fasciculation?", ["definition"], False),
    ("whats clonus", ["definition"], False),
    ("What’s clonus? My physio said I have it.", ["definition"], False),
    ("What is the difference between clonus and fasciculations?", ["comparison"], False),
    ("clonus vs fasciculation - how to tell apart quickly", ["comparison"], False),
    ("How do you tell clonus apart from fasciculations?", ["comparison"], False),
    ("How do I stop eyelid twitching?", ["treatment"], False),
    ("How is ALS diagnosed?", ["diagnosis"], False),
    ("Is twitching a sign of MS?", ["symptoms"], False),
    ("List the causes of cramps", ["cause"], True),
    ("What is the life expectancy with ALS?", ["prognosis"], False),
    ("Where in the body do twitches happen?", ["location"], False),
    ("How common is spasticity in MS?", ["frequency"], False),
    ("Why does MS cause spasticity?", ["explanation"], False),
    ("How many types of muscle spasms are there?", ["count"], False),
    ("What actually makes a muscle twitch?", ["cause"], False),
    ("What is going on in the nerves that makes legs stiff?", ["explanation"], False),
    ("What happens in the body to make a muscle twitch?", ["explanation"], False),
    ("What happens to a muscle when its nerve is damaged?", [], False),
    ("What sorts of medicines do doctors give for stiffness?", ["treatment"], True),
    ("what actually is clonus, and is it dangerous?", ["definition"], False),  # a second question after it
    ("What is clonus; does it hurt?", ["definition"], False),
    ("What is clonus, I keep hearing it", [], False),  # only a second question ends the name asked about
    ("Which medicines cause twitching as a side effect?", ["cause"], True),
    # seeing a doctor asked in everyday words
    ("At what point should my husband get his twitching looked at?", ["doctor"], False),
    ("Is this something I should get checked out?", ["doctor"], False),
    ("Do these twitches need medical attention?", ["doctor"], False),
    ("Should I worry about twitching?", ["doctor"], False),
])
def test_answer_types_and_list_questions(question, types, is_list):
    assert answer_types(question) == types
    assert wants_list(question) is is_list


@pytest.mark.parametrize("sentence, expected", [
    ("Multiple Sclerosis (MS) is a chronic, autoimmune disease that targets the central nervous system.", True),
    ("Cramp-fasciculation syndrome (CFS) is a rare condition.", True),
    ("Clonus describes the repetitive jerking of muscles.", True),
    ("Fasciculations are a hallmark of diseases of the lower motor neurons.", False),  # "are a" alone
    ("The involuntary movements of MS (in the legs) are a problem.", False),  # not a name with its abbreviation
    ("People with ALS (as) are a varied group.", False),
])
def test_a_sentence_defines_what_it_names(sentence, expected):
    assert defines(sentence) is expected


@pytest.mark.parametrize("sentence, stems, expected", [
    ("Diseases that affect the lower motor neurons—nerve cells originating in the spinal cord.", {"neuron"}, True),
    ("ALS affects motor neurons — nerves that control your voluntary muscles.", {"motor", "neuron"}, True),
    ("ALS affects motor neurons — nerves that control your voluntary muscles.", {"al"}, False),  # not ALS's
    ("It can lead to muscle twitching—although this is rare.", {"twitch"}, False),  # an aside, not a description
    ("Lower motor neurons carry signals.", {"neuron"}, False),  # no dash
])
def test_a_dash_after_a_word_of_the_question_describes_it(sentence, stems, expected):
    assert describes_after_dash(sentence, stems) is expected


def test_asking_for_symptoms_is_not_asking_for_a_definition():
    assert answer_types("What are the symptoms of MS?") == ["symptoms"]


@pytest.mark.parametrize("kind, answer, other", [
    ("prognosis", "The average survival time is two to five years.", "ALS is a disease of the motor neurons."),
    ("location", "It often affects one or both of the legs.", "Spasticity affects up to 90% of people with MS."),
    ("frequency", "Spasticity affects up to 90% of people with MS.", "Spasticity is muscle stiffness."),
    ("explanation", "It results from disrupted signals between the motor neurons.",
     "Spasticity can cause sudden, painful contractions."),
    ("explanation", "Demyelination of upper motor neurons results in spasticity.", "Spasticity is common in MS."),
    ("explanation", "These twitches typically originate from overactivity in the peripheral nerves.",
     "These twitches are typically harmless."),
    # a passive "is caused by" explains; "caused by" naming which fasciculations does not
    ("explanation", "Clonus is thought to be caused by faulty nerve transmission.",
     "Fasciculations caused by ALS will be accompanied by other early symptoms."),
    ("explanation", "Benign twitches are not caused by a disease.", "Twitches caused by caffeine stop soon."),
    ("count", "There are three types of muscle spasms.", "Muscle spasms are sudden tightenings of a muscle."),
    ("comparison", "The difference between clonus and fasciculations is that clonus moves a joint.",
     "Clonus describes repetitive spasms of the muscles."),
    ("comparison", "They're not quite the same as muscle twitching.", "Muscle twitching is common."),
])
def test_answer_shapes_of_the_newer_types(kind, answer, other):
    assert has_answer_shape([kind], answer)
    assert not has_answer_shape([kind], other)


@pytest.mark.parametrize("types, answer, expected", [
    (["explanation"], "It results from disrupted signals between the motor neurons.", {"caus", "reason"}),
    (["prognosis"], "The average survival time is two to five years.",
     {"life", "expect", "surviv", "prognosi", "outlook"}),
    (["frequency"], "Fasciculations are rarely a symptom of MS.", {"common", "often", "frequent", "like"}),
    (["explanation"], "Spasticity is muscle stiffness.", set()),  # not a reason: "cause" stays uncovered
    (["treatment"], "Treatment options include massage.", set()),  # "cure" is never answered by a treatment
    (["comparison"], "Unlike clonus, fasciculations do not move a joint.",
     {"differ", "diff", "versus", "compar", "distinguish", "apart", "same"}),
])
def test_words_asking_for_an_answer_type_are_answered_by_a_span_of_that_shape(types, answer, expected):
    assert answered_stems(types, answer) == expected


def test_asking_for_symptoms_wants_a_list():
    assert wants_list("What are the symptoms of MS?")


# -- confidence ------------------------------------------------------------------------------------------

def features(**values: float) -> dict[str, float]:
    return {name: values.get(name, 0.0) for name in CONFIDENCE_FEATURES}


def test_confidence_is_the_logistic_of_weighted_features():
    calibration = Calibration((1.0, 2.0, -1.0, 0.0, 0.0, 0.0), bias=-1.0, threshold=0.5)
    assert calibration.confidence(features()) == pytest.approx(1 / (1 + np.e))
    # z = -1 + 1 * ln 3 + 2 * 0.5 - 1 * 0 = ln 3  ->  3 / 4
    assert calibration.confidence(features(probability=np.log(3), similarity=0.5)) == pytest.approx(0.75)


def test_confidence_does_not_overflow():
    calibration = Calibration((1e6, 0.0, 0.0, 0.0, 0.0, 0.0), bias=0.0, threshold=0.5)
    assert calibration.confidence(features(probability=1.0)) == pytest.approx(1.0)
    assert calibration.confidence(features(probability=-1.0)) == pytest.approx(0.0)


def test_undecided_when_a_feature_range_straddles_the_threshold():
    calibration = Calibration((0.0, 0.0, 0.0, 0.0, 0.0, -2.0), bias=1.0, threshold=0.5)
    assert calibration.undecided(features(), {"missing_weight": (0.0, 1.0)})  # z runs from 1 down to -1
    assert not calibration.undecided(features(), {"missing_weight": (0.0, 0.4)})  # z stays above 0
    for always_one_side in (3.0, -1.0):
        fixed = Calibration((0.0, 0.0, 0.0, 0.0, 0.0, -2.0), always_one_side, 0.5)
        assert not fixed.undecided(features(), {"missing_weight": (0.0, 1.0)})


def test_undecided_over_several_ranges_takes_their_extremes_together():
    # z = 1 - 1 * unknown - 2 * missing_weight: each range alone keeps z above 0, together they reach -0.8
    calibration = Calibration((0.0, 0.0, -1.0, 0.0, 0.0, -2.0), bias=1.0, threshold=0.5)
    assert not calibration.undecided(features(), {"unknown": (0.0, 0.9)})
    assert not calibration.undecided(features(), {"missing_weight": (0.0, 0.45)})
    assert calibration.undecided(features(), {"unknown": (0.0, 0.9), "missing_weight": (0.0, 0.45)})
    # a positive weight turns its range the other way round
    rising = Calibration((0.0, 0.0, 1.0, 0.0, 0.0, 0.0), bias=-0.5, threshold=0.5)
    assert rising.undecided(features(), {"unknown": (0.0, 1.0)})
    assert not rising.undecided(features(), {"unknown": (0.0, 0.4)})


def test_calibration_saves_and_loads(tmp_path):
    path = tmp_path / "calibration.json"
    Calibration((0.5, 1.0, -2.0, -1.0, -0.5), 0.25, 0.6, "by hand").save(path)
    assert load_calibration(path) == Calibration((0.5, 1.0, -2.0, -1.0, -0.5), 0.25, 0.6, "by hand")


def test_calibration_fitted_on_other_features_is_refused(tmp_path):
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps({"weights": [1.0, 2.0], "bias": 0.0, "threshold": 0.5,
                                "features": ["probability", "length"]}), encoding="utf-8")
    with pytest.raises(ValueError, match=r"fitted on features \['probability', 'length'\], this code uses"):
        load_calibration(path)


# -- ranker ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("count", [0, 1, len(FEATURES) + 1])
def test_ranker_needs_one_weight_per_feature(count):
    with pytest.raises(ValueError, match=f"need {len(FEATURES)} weights \\(one per feature\\), got {count}"):
        Ranker((1.0,) * count)


def test_ranker_scores_and_probabilities():
    weights = tuple(1.0 if name == "coverage" else 0.0 for name in FEATURES)
    ranker = Ranker(weights, scale=2.0, offset=-1.0)
    rows = np.zeros((2, len(FEATURES)))
    rows[1, FEATURES.index("coverage")] = 0.5
    assert ranker.scores(rows).tolist() == [0.0, 0.5]
    assert ranker.probability(rows) == pytest.approx([1 / (1 + np.e), 0.5])


def test_fit_logistic_separates_the_positives():
    x = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 1])
    weights, bias = fit_logistic(x, y)
    scores = x @ weights + bias
    assert weights[0] > 0
    assert scores[2:].min() > 0 > scores[:2].max()


def test_fit_logistic_needs_one_label_per_row():
    with pytest.raises(ValueError, match="got 2 rows and 3 labels"):
        fit_logistic(np.zeros((2, 1)), np.zeros(3))
    with pytest.raises(ValueError, match="got 0 rows and 0 labels"):
        fit_logistic(np.zeros((0, 1)), np.zeros(0))


def test_fit_listwise_ranks_each_questions_positive_first():
    questions = [
        (np.array([[0.9, 0.1], [0.2, 0.8], [0.1, 0.5]]), np.array([1, 0, 0])),
        (np.array([[0.3, 0.9], [0.7, 0.2]]), np.array([0, 1])),
    ]
    weights = fit_listwise(questions)
    for x, y in questions:
        assert int(np.argmax(x @ weights)) == int(np.argmax(y))


def test_fit_listwise_needs_a_positive():
    with pytest.raises(ValueError, match="no question has a positive span"):
        fit_listwise([(np.eye(2), np.zeros(2))])


def test_spelling_correction_prefers_the_closest_then_the_most_frequent_stem_whatever_the_order():
    from retrieval.query import _correct

    frequency = {"spastic": 9, "spasticityi": 1, "thyroid": 3}.get
    for vocabulary in (["spastic", "spasticityi", "thyroid"], ["thyroid", "spasticityi", "spastic"]):
        assert _correct("spasticti", vocabulary, frequency) == "spastic"  # two edits each: the frequent one
        assert _correct("thyriod", vocabulary, frequency) == "thyroid"  # a swap of neighbours is one edit
    assert _correct("twi", ["twitch"], frequency) is None  # too short to guess


def test_an_amount_is_a_number_with_what_it_counts_not_any_digit():
    from retrieval.confidence import _AMOUNT

    for text in ["Take 400 mg a day.", "It affects up to 90% of people.", "Survival is two to five years.",
                 "It won't last more than a few days.", "one in 10 people"]:
        assert _AMOUNT.search(text), text
    for text in ["Lack of vitamin B12 and magnesium.", "One common symptom of ALS is twitching."]:
        assert not _AMOUNT.search(text), text


@pytest.mark.parametrize("question, asks", [
    ("How much magnesium should I take?", True),
    ("What dose of baclofen is safe?", True),
    ("what percent of people with BFS get ALS?", True),
    ("What proportion of people with MS have spasticity?", True),
    ("Roughly what share of people with MS end up with spasticity?", True),
    ("the percentage of people tested who have ALS", True),
    ("How long does an MS flare-up last?", True),  # a duration of something
    ("How long do people with ALS live?", True),
    ("How long before I should see a doctor?", False),  # how long to wait: answered by when, not a number
    ("Is twitching common in MS?", False),
    ("What do MS spasms look like?", False),
])
def test_questions_that_ask_for_an_amount(question, asks):
    from retrieval.confidence import _ASKS_AMOUNT

    assert bool(_ASKS_AMOUNT.search(question)) is asks


def test_a_word_neither_the_corpus_nor_the_model_knows_is_rare():
    from retrieval.aliases import AliasTable
    from retrieval.confidence import confidence_features
    from retrieval.query import parse_query

    vocabulary = {"twitch": 0, "muscl": 1}
    known = {"help", "does", "with", "while", "pregnant"}.__contains__
    query = parse_query("does gabapentin help with muscle twitching", vocabulary, np.array([1, 1]),
                        AliasTable.from_rows([]), known)
    assert query.unknown == ["gabapentin", "help"] and query.rare == ["gabapentin"]
    plain = parse_query("does help with muscle twitching while pregnant", vocabulary, np.array([1, 1]),
                        AliasTable.from_rows([]), known)
    assert plain.rare == []
    features = confidence_features(query, [], {"twitch": 1.0, "muscl": 1.0})
    assert features["unknown_rare"] == pytest.approx(features["unknown"] / 2)


def _candidate(text: str):
    from retrieval.extract import Candidate

    return Candidate(0, "a", 0, len(text), text, (0,), 1.0, 0.9, 0.6, 1.0, np.ones(2), np.ones((1, 2)), (text,),
                     frozenset(tokenize([text])[0]), text)


def test_an_unknown_word_is_as_familiar_as_its_nearest_corpus_word_only_when_the_answer_uses_that_word():
    from retrieval.aliases import AliasTable
    from retrieval.confidence import confidence_features
    from retrieval.query import parse_query, with_neighbours

    query = parse_query("is there a cure for ALS", {"al": 0, "treatment": 1}, np.array([1, 1]),
                        AliasTable.from_rows([]), lambda word: True)
    query = with_neighbours(query, [("treatment", "treatment", 0.7)], min_similarity=0.65)
    assert query.unknown == ["cure"] and query.neighbours == {"cure": ("treatment", 0.7)}
    weights = {"al": 1.0, "treatment": 1.0}
    on_treatment = confidence_features(query, [_candidate("ALS treatment options are available.")], weights)
    elsewhere = confidence_features(query, [_candidate("ALS is a disease of the motor neurons.")], weights)
    # familiar as far as 0.7 is above the 0.65 a neighbour must reach, out of the 0.35 above it
    assert on_treatment["unknown"] == pytest.approx((1 - 0.05 / 0.35) * elsewhere["unknown"])
    assert elsewhere["unknown"] == pytest.approx(1 / 3)  # "cure" weighs as the rarest term: one of three


def test_texting_shorthand_is_not_a_topic_word():
    from retrieval.aliases import AliasTable
    from retrieval.query import parse_query

    query = parse_query("do ppl with ms get twitches alot", {"ms": 0, "twitch": 1}, np.array([1, 1]),
                        AliasTable.from_rows([]), lambda word: True)
    assert query.terms == ["ms", "twitch"] and query.unknown == []
