"""Patients' text, made comparable: lower case, apostrophes dropped ("can't" is "cant"), curly
quotes straightened, white space folded (line breaks kept: they end sentences). Every position
of the normalized text maps back to the original, so a flag quotes what the patient wrote."""

from __future__ import annotations

from dataclasses import dataclass

DROPPED = frozenset("'’‘`´")
QUOTES = {"“": '"', "”": '"', "„": '"'}
DASHES = {"–": "-", "—": "-", "‐": "-"}


@dataclass(frozen=True)
class Normalized:
    text: str
    origin: tuple[int, ...]  # origin[i]: where normalized character i came from
    source: str

    def quote(self, start: int, end: int) -> str:
        """The patient's own words behind normalized[start:end]."""
        if start >= end:
            return ""
        return self.source[self.origin[start] : self.origin[end - 1] + 1]


def normalize(source: str) -> Normalized:
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(source):
        if char in DROPPED:
            continue
        char = QUOTES.get(char) or DASHES.get(char) or char.lower()
        if char in "\r\n":
            char = "\n"
        elif char.isspace():
            char = " "
        if char in (" ", "\n") and chars and chars[-1] in " \n":
            if char == "\n":
                chars[-1] = "\n"  # a line break outranks a space
            continue
        # (lower-casing may give more than one character: "İ" is "i" and a dot above)
        chars.extend(char)
        origin.extend([index] * len(char))
    return Normalized("".join(chars), tuple(origin), source)
