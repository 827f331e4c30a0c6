"""Red-flag screening: the emergencies a practice must not miss, their context, the numbers,
and the labelled sets (no emergency missed; routine messages left routine)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage_core.screening import lexicon, screen
from triage_core.vocabulary import RedFlagCategory

SETS = Path(__file__).resolve().parents[2] / "data" / "screening"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("i have been thinking about killing myself", "suicide"),
        ("I took the whole bottle of my sleeping pills about an hour ago", "overdose_poisoning"),
        ("my son swallowed a button battery", "overdose_poisoning"),
        ("sudden loss of vision in my left eye", "vision_loss"),
        ("my baby is 6 weeks old and has a fever of 101.5", "infant"),
        ("my husband's face is drooping", "stroke"),
        ("not sure if this is chest pain but it hurts", "cardiac"),
        ("i dont want to be alive anymore", "suicide"),
        ("everyone would be better off without me", "suicide"),
        ("my throat is closing up after the bee sting", "anaphylaxis"),
        ("black tarry stools since yesterday", "gi_bleeding"),
        ("im 20 weeks pregnant and bleeding", "severe_bleeding"),
        ("stiff neck, fever 102 and a rash that wont fade", "sepsis_meningitis"),
        ("hit my head on the cabinet and now ive thrown up twice", "head_injury"),
        ("worst stomach pain ever and my belly is hard as a board", "abdominal"),
        ("grandma fell and cant get up off the floor", "fall_deformity"),
        ("my 3 week old wont wake up to feed", "infant"),
        ("cant breathe", "breathing"),
        ("my dad collapsed and is not responding", "collapse"),
        (
            "my mom had a very dark sticky bowel movement this morning and now shes pale",
            "gi_bleeding",
        ),
        ("my husbands arm isnt working and his speech is off", "stroke"),
        ("my dad had a huge bloody bm, and now hes pale and shaky", "gi_bleeding"),
        ("my baby is 1 month, fever 38.5 and she not want to drink milk", "infant"),
        ("my father fall down suddenly in the kitchen and not wake up", "collapse"),
        ("she take warfarin, blood is come out very much, not stopping", "severe_bleeding"),
        ("doctor, I am very tired of life. I think to finish my life", "suicide"),
        ("my son get bleach in his eye when clean the bathroom, now he cry", "vision_loss"),
        ("o2 on the finger thing says 87, I have covid, breathing is heavy", "vital_signs"),
        ("ive been saving my heart tablets and there are enough of them now", "suicide"),
        ("his right arm not move and his mouth is go down on one side", "stroke"),
        ("my throat feels like its closing after eating peanuts", "anaphylaxis"),
        ("my blood sugar meter just says HI", "vital_signs"),
        ("my 4 year old got into grandmas pills and ate some", "overdose_poisoning"),
    ],
)
def test_emergencies_are_flagged_with_their_category(text: str, category: str) -> None:
    result = screen(text)
    assert result.flagged, text
    assert category in result.categories


@pytest.mark.parametrize(
    "text",
    [
        "No chest pain or shortness of breath, just wondering if I should keep taking aspirin",
        "the chest pain I had last year has not come back",
        "what should I do if I get chest pain",
        "my father had a stroke at 60",
        "is sudden numbness on one side always a stroke?",
        "my mom died of a heart attack, am I at higher risk?",
        "I'm dying to know my cholesterol results",
        "this insurance form is killing me lol",
        "I'm out of my inhaler, can you refill it",
        "chest x-ray results?",
        "can I get a stroke-risk screening",
        "our church is hosting a suicide prevention training",
        "ankle isn't deformed at all, just puffy after a misstep. is RICE enough?",
        "my stools are a normal brown, no black, no blood, a bit bunged up on iron",
        "on eliquis, how long do i let a nosebleed go before going to the ER?",
        "what does the worst headache of your life actually mean?",
        "donnas mom and her sister both had heart attacks in their 50s, donna is 51 now",
        "since women get heart attacks differently, what should I watch for?",
        "fistula site has a little bruise, no bleeding. is the buzzing normal?",
        "this bill gave me a heart attack lol. why is my copay 240 dollars",
        "i wont be here anymore because im moving to denver, please transfer my records",
        "my home blood pressure readings this week have averaged 138/86",
        "stung by a bee yesterday, red and puffy but no throat tightness, breathing fine",
    ],
)
def test_negated_past_hypothetical_family_and_harmless_mentions_stay_routine(text: str) -> None:
    assert screen(text).flags == ()


def test_another_persons_emergency_counts_and_doubt_stays_urgent() -> None:
    assert screen("my husband is clutching his chest and sweating").flagged
    assert screen("probably nothing but my left arm is numb and my face feels droopy").flagged
    assert screen("my daughter says im slurring my words").flagged  # an observation, not a rule
    assert not screen("my PT said sudden dizziness can be a stroke sign").flagged


def test_a_past_event_does_not_hide_a_new_one() -> None:
    result = screen("I had a stroke in 2019 and now my face is drooping again")
    assert [f.rule for f in result.flags] == ["stroke.face"]


def test_negation_reaches_no_further_than_a_new_subject() -> None:
    assert screen("no fever and my chest hurts").flagged
    assert screen("fell off his bike without a helmet, hit his head, threw up twice").flagged
    assert not screen("no chest pain, shortness of breath or fainting").flagged


def test_the_flag_quotes_the_patients_own_words() -> None:
    flag = screen("Hi Dr P, my son SWALLOWED a Button Battery!!").flags
    assert {f.rule for f in flag} == {"overdose_poisoning.battery_magnet"}
    assert flag[0].phrase == "SWALLOWED a Button Battery"  # with what it requires
    assert flag[0].to_wire() == {
        "phrase": "SWALLOWED a Button Battery",
        "category": "overdose_poisoning",
        "rule": "overdose_poisoning.battery_magnet",
    }


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("my sugar was 53", True),
        ("my sugar was 54", False),
        ("blood sugar 400", False),
        ("blood sugar 401", True),
        ("glucose 2.8 mmol", True),
        ("my meter just says HI", True),
        ("temp 103.9", False),
        ("temp 104", True),
        ("fever of 40.1 c", True),
        ("my 8 week old has a temp of 100.4", True),
        ("my 4 month old has a temp of 100.4", False),
        ("on chemo and my temp is 101", True),
        ("heart rate 149", False),
        ("heart rate 150", True),
        ("pulse 41", False),
        ("pulse 40", True),
        ("oxygen 92%", False),
        ("o2 sat 91", True),
        ("bp 179/119", False),
        ("bp 180/100", True),
        ("blood pressure 150/120", True),
        ("bp 200 over 115", True),
        ("my appointment is 12/15 at 10:30", False),
    ],
)
def test_numbers_count_at_their_thresholds(text: str, flagged: bool) -> None:
    assert screen(text).flagged is flagged, text


def test_hypothetical_numbers_do_not_count() -> None:
    assert not screen("should i go to the ER if my sugar gets over 400?").flagged


def test_subject_and_body_are_both_screened_and_each_flag_appears_once() -> None:
    result = screen("Chest pain", "chest pain again, chest pain since noon")
    assert [f.phrase.lower() for f in result.flags] == ["chest pain"]


def load(name: str) -> list[dict]:
    lines = (SETS / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line]


@pytest.mark.parametrize(
    "name",
    [
        "tune.jsonl",
        "holdout.jsonl",
        "fresh.jsonl",
        "final.jsonl",
        "blind_a.jsonl",
        "blind_b.jsonl",
        "blind_c.jsonl",
    ],
)
def test_no_emergency_in_a_labelled_set_is_missed(name: str) -> None:
    records = load(name)
    missed = [
        r["id"] for r in records if r["label"] == "emergency" and not screen(r["text"]).flagged
    ]
    routine = [r for r in records if r["label"] == "routine"]
    kept = sum(not screen(r["text"]).flagged for r in routine)
    assert missed == []
    assert kept / len(routine) >= 0.90


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_screens_and_flags_quote_it(text: str) -> None:
    for flag in screen(text).flags:
        assert flag.phrase and flag.phrase in text


def test_every_category_a_flag_can_carry_has_a_word_for_staff() -> None:
    categories = {target.category for target in lexicon.targets()}
    found = {
        flag.category
        for name in ("tune.jsonl", "final.jsonl")
        for r in load(name)
        for flag in screen(r["text"]).flags
    }
    assert categories | found <= set(RedFlagCategory.values())
    assert {"vital_signs", "infant"} <= found  # the categories numbers give


def test_a_follow_up_is_read_with_what_the_patient_said_before() -> None:
    before = ["Battery", "my son swallowed a button battery"]
    assert screen("now he is drooling and wont eat", context=before).categories == (
        "overdose_poisoning",
    )
    assert screen("now he is drooling and wont eat").flags == ()
    denied = ["no battery was swallowed, I found it under the couch"]
    assert screen("he is drooling a bit", context=denied).flags == ()
    # The subject counts for the body and the other way round; only their own words are quoted.
    flags = screen("Button battery", "my son swallowed one an hour ago").flags
    assert [f.phrase for f in flags] == ["swallowed"]


@pytest.mark.parametrize("odd", ["İ", "ẞ", "ﬁ", "Σ", "\u0130stanbul"])
def test_letters_that_lower_case_into_several_still_screen_and_quote(odd: str) -> None:
    text = f"{odd} here. {odd}{odd} I took the whole bottle of pills {odd}"
    flags = screen("", text).flags
    assert [f.phrase for f in flags] == ["took the whole bottle of pills"]
