"""Finding red flags and judging their context (see the package docstring)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from . import lexicon
from .text import Normalized, normalize
from .vitals import readings

FORWARD_WORDS = 8  # how far a negation or "signs of" reaches ahead, in words
BACKWARD_WORDS = 6  # how far back "is gone" reaches
# A negation reaches no further than a new subject: "no fever and my chest hurts", "without a
# helmet, hit his head".
NEW_SUBJECT = re.compile(
    r"\s(?:and|plus|also|with|or)\s+(?:my|his|her|i|im|ive|id|he|hes|she|shes|it|its|the|this|"
    r"that|there|theres|now|then|we|they|our)\b"
    r"|,\s*(?:and\s+)?(?:my|his|her|i|im|ive|he|hes|she|shes|it|its|the|this|that|then|now|so|"
    r"just|we|they|our|hit|threw|fell|got|went|has|had|is|was|keeps|started|feels?|looks?|"
    r"seems|cant|can|wont|am|are|now)\b"
)
COMMA = re.compile(r",")
WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class RedFlag:
    """One red flag: the patient's words, the category that picks the safety reply, and the
    rule that found it (`category.name`)."""

    phrase: str
    category: str
    rule: str

    def to_wire(self) -> dict[str, str]:
        return {"phrase": self.phrase, "category": self.category, "rule": self.rule}


@dataclass(frozen=True)
class Screening:
    flags: tuple[RedFlag, ...]

    @property
    def flagged(self) -> bool:
        return bool(self.flags)

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(flag.category for flag in self.flags))


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    category: str
    rule: str
    requires: re.Pattern[str] | None = None


def _clauses(text: str) -> list[tuple[int, int]]:
    """Sentence parts: cut at sentence ends and at the words that turn a sentence around
    (a turning word starts the next part)."""
    cuts = {0, len(text)}
    for match in lexicon.context().terminators.finditer(text):
        words = any(char.isalpha() for char in match.group(0))
        cuts.add(match.start() if words else match.end())
    ordered = sorted(cuts)
    return [(a, b) for a, b in itertools.pairwise(ordered) if b > a]


SENTENCE_END = re.compile(r"[.!?\n]")


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence a clause belongs to, with its end mark."""
    before = max((m.end() for m in SENTENCE_END.finditer(text, 0, start)), default=0)
    after = SENTENCE_END.search(text, max(end - 1, start))
    return text[before : after.end() if after else len(text)]


def _spans(pattern: re.Pattern[str], text: str, start: int, end: int) -> list[tuple[int, int]]:
    return [(m.start() + start, m.end() + start) for m in pattern.finditer(text[start:end])]


def _inside(span: tuple[int, int], covers: Iterable[tuple[int, int]]) -> bool:
    return any(a <= span[0] and span[1] <= b for a, b in covers)


def _words_between(text: str, a: int, b: int) -> int:
    return len(WORD.findall(text[a:b]))


class _Judge:
    """The context of one clause, asked about each red flag found in it."""

    def __init__(
        self,
        text: str,
        start: int,
        end: int,
        asks_own_risk: bool = False,
        relative_now: bool = False,
    ) -> None:
        ctx = lexicon.context()
        self.text = text
        clause = text[start:end]
        pseudo_negation = _spans(ctx.negation_pseudo, text, start, end)
        pseudo_hypothetical = _spans(ctx.hypothetical_pseudo, text, start, end)

        def real(pattern: re.Pattern[str], pseudo: list[tuple[int, int]]) -> list[tuple[int, int]]:
            return [s for s in _spans(pattern, text, start, end) if not _inside(s, pseudo)]

        self.negations = real(ctx.negation_forward, pseudo_negation)
        self.resolved = real(ctx.negation_backward, pseudo_negation)
        self.conditions = real(ctx.hypothetical_conditional, pseudo_hypothetical)
        self.current = bool(ctx.current.search(clause))
        self.hypotheticals = real(ctx.hypothetical_forward, pseudo_hypothetical)
        if not self.current and ctx.general.search(clause):
            # "my PT said dizziness can be a stroke sign", not "my daughter says im slurring"
            self.hypotheticals += _spans(ctx.reported, text, start, end)
        self.historical = bool(ctx.historical.search(clause))
        # "my dad had a bloody bm, and now hes pale": a relative's "had" is not their history
        # when the message says how they are now.
        self.family_history = (
            bool(ctx.family_members.search(clause))
            and (asks_own_risk or bool(ctx.family_history.search(clause)))
            and not relative_now
        )
        # "is sudden numbness always a stroke?": a question with nobody in it.
        # (the whole sentence is asked: "what does the worst headache of your life actually
        # mean?" is cut into clauses at "actually")
        sentence = _sentence(text, start, end)
        self.general_question = sentence.rstrip().endswith("?") and not ctx.personal.search(
            sentence
        )

    def _reaches(self, trigger: tuple[int, int], flag: _Candidate) -> bool:
        """A forward trigger reaches a flag a few words on, if no new subject comes between."""
        if trigger[1] > flag.start:
            return False
        # (the flag's first word counts: "no fever and my chest hurts")
        between = self.text[trigger[1] : min(flag.end, flag.start + 10)]
        return _words_between(self.text, trigger[1], flag.start) <= FORWARD_WORDS and not (
            NEW_SUBJECT.search(between)
        )

    def negated(self, flag: _Candidate) -> bool:
        if any(self._reaches(s, flag) for s in self.negations):
            return True
        return any(
            s[0] >= flag.end and _words_between(self.text, flag.end, s[0]) <= BACKWARD_WORDS
            for s in self.resolved
        )

    def hypothetical(self, flag: _Candidate) -> bool:
        if self.general_question:
            return True
        if any(
            s[1] <= flag.start and not COMMA.search(self.text[s[1] : flag.start])
            for s in self.conditions
        ):
            return True  # "if ..." reaches to the next comma
        return any(self._reaches(s, flag) for s in self.hypotheticals)

    def past(self) -> bool:
        """Historical or a relative's history, and nothing says it is happening now."""
        return (self.historical or self.family_history) and not self.current

    def counts(self, flag: _Candidate) -> bool:
        """Is this a red flag of now, for someone (not negated, hypothetical or past)?"""
        return not (self.past() or self.negated(flag) or self.hypothetical(flag))


class _Message:
    """One text: its clauses and their judges, made once and asked about every candidate."""

    def __init__(self, normalized: Normalized) -> None:
        self.normalized = normalized
        self.text = normalized.text
        self.clauses = _clauses(self.text)
        # "my dad had a stroke. am I at risk?": the relative's mention is family history.
        self.asks_own_risk = bool(lexicon.context().family_risk_question.search(self.text))
        self.relative_now = bool(lexicon.context().family_ongoing.search(self.text))
        self._judges: dict[tuple[int, int], _Judge] = {}

    def judge(self, position: int) -> _Judge:
        for start, end in self.clauses:
            if start <= position < end:
                key = (start, end)
                if key not in self._judges:
                    self._judges[key] = _Judge(
                        self.text, start, end, self.asks_own_risk, self.relative_now
                    )
                return self._judges[key]
        raise ValueError("position outside the text")  # pragma: no cover

    def counts(self, candidate: _Candidate) -> bool:
        return self.judge(candidate.start).counts(candidate)

    def required(self, pattern: re.Pattern[str], near: _Candidate) -> tuple[int, int] | None:
        """Where the requirement appears and counts in its own context, nearest the flag
        first (None when it never does)."""
        spans = [
            (m.start(), m.end())
            for m in pattern.finditer(self.text)
            if m.end() > m.start() and self.counts(_Candidate(m.start(), m.end(), "", ""))
        ]
        return min(spans, key=lambda s: abs(s[0] - near.start), default=None)

    def phrase_span(
        self, candidate: _Candidate, requirement: tuple[int, int] | None
    ) -> tuple[int, int]:
        """The words to quote: the flag, and its requirement when both sit in one sentence
        close together ("swallowed a button battery", not "swallowed")."""
        if requirement is None:
            return candidate.start, candidate.end
        start, end = min(candidate.start, requirement[0]), max(candidate.end, requirement[1])
        between = self.text[start:end]
        if end - start <= 80 and not SENTENCE_END.search(between):
            return start, end
        return candidate.start, candidate.end


ANYWHERE = _Candidate(0, 0, "", "")


def _candidates(text: str) -> list[_Candidate]:
    found = [
        _Candidate(m.start(), m.end(), target.category, target.rule, target.requires)
        for target in lexicon.targets()
        for m in target.pattern.finditer(text)
        if m.end() > m.start()
    ]
    found += [_Candidate(r.start, r.end, r.category, r.rule) for r in readings(text)]
    return sorted(found, key=lambda c: (c.start, -c.end))


def screen(*texts: str, context: Sequence[str] = ()) -> Screening:
    """The red flags in these texts (a subject and a body, say), in order, each phrase once.

    A red flag that needs something else said too ("drooling" needs a battery or a magnet)
    may find it in the other texts or in `context` (the patient's earlier messages on the
    same request): "now he is drooling" after "he swallowed a button battery" is urgent.
    Only these texts' own words are flagged and quoted.
    """
    flags: list[RedFlag] = []
    seen: set[tuple[str, str]] = set()
    sources = [t for t in texts if t]
    around: dict[int, _Message] = {}

    def elsewhere(pattern: re.Pattern[str], index: int) -> bool:
        """Said, and meant (not negated, past …), in another text or in the context."""
        for i, text in enumerate([*sources, *context]):
            if i == index or not text:
                continue
            if i not in around:
                around[i] = _Message(normalize(text))
            if around[i].required(pattern, ANYWHERE) is not None:
                return True
        return False

    for index, source in enumerate(sources):
        normalized = normalize(source)
        candidates = _candidates(normalized.text)
        if not candidates:
            continue
        message = _Message(normalized)
        for candidate in candidates:
            if not message.counts(candidate):
                continue
            requirement = None
            if candidate.requires is not None:
                requirement = message.required(candidate.requires, candidate)
                if requirement is None and not elsewhere(candidate.requires, index):
                    continue
            phrase = normalized.quote(*message.phrase_span(candidate, requirement)).strip()
            key = (candidate.rule, phrase.lower())
            if key not in seen:
                seen.add(key)
                flags.append(RedFlag(phrase, candidate.category, candidate.rule))
    return Screening(_widest(flags))


def _widest(flags: list[RedFlag]) -> tuple[RedFlag, ...]:
    """Without a flag whose words another of its category already quotes ("swallowed" beside
    "swallowed a button battery")."""
    return tuple(
        flag
        for flag in flags
        if not any(
            other.category == flag.category
            and len(other.phrase) > len(flag.phrase)
            and flag.phrase.lower() in other.phrase.lower()
            for other in flags
        )
    )
