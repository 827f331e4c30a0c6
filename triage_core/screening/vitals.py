"""Numbers in patients' text that are emergencies on their own.

Blood glucose below 54 mg/dL (3.0 mmol/L) or above 400 (22.2 mmol/L); a fever of 100.4 °F
(38 °C) or more in an infant under 3 months or during chemotherapy, 104 °F (40 °C) or more at
any age; a heart rate of 150 or more or 40 or less; oxygen saturation below 92 %; blood pressure
of 180 systolic or 120 diastolic or more. Celsius is recognised by its value (34 to 45). Each
finding is a span of the normalized text; the context rules then judge it like any other red
flag ("should I go in if my sugar is over 400?" is hypothetical).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

NUMBER = r"(\d{1,3}(?:\.\d{1,2})?)"
GAP = r"[^\d\n]{0,32}?"  # words between the measure and its number ("was like", "is at")
NOT_A_READING = (
    r"(?!\s*(?:/|%|years?|yrs?|lbs?|pounds|kg|units?|u\b|minutes?|mins?|hours?|hrs?|am\b|pm\b|"
    r"days?|weeks?|mg\s+(?:tab|pill)))"
)


@dataclass(frozen=True)
class Reading:
    start: int
    end: int
    category: str
    rule: str


GLUCOSE = re.compile(
    r"\b(?:blood\s+sugars?|sugars?|glucose|bs|bg|cbg|fsbs|meter|cgm|dexcom|libre|readings?)"
    + GAP
    + r"(?:in\s+the\s+)?"
    + NUMBER
    + r"(?!\d)s?"
    + NOT_A_READING
    + r"(\s*mmol)?"
)
TEMPERATURE = re.compile(
    r"\b(?:fever|feverish|temp|temps|temperature|thermometer|febrile|running|spiking)"
    + GAP
    + NUMBER
    + r"\s*(?:°|degrees?|deg)?\s*(f|c)?\b"
)
BARE_TEMPERATURE = re.compile(
    r"\b(\d{2,3}(?:\.\d)?)\s*(?:°\s*|degrees?\s*|deg\s*)(f|c)\b|\b(\d{2,3}\.\d)\s*(f|c)\b"
)
# A decimal that can only be a temperature: 100.0-107.9 (°F) or 38.0-42.9 (°C).
DECIMAL_TEMPERATURE = re.compile(
    r"(?<![\d/.$])(1\d\d\.\d|3[89]\.\d|4[0-2]\.\d)(?![\d.%])"
    r"(?!\s*(?:lbs?|pounds|kg|kilos|mg|ml|cm|in\b|inches|hours|%|miles|mi\b))"
)
HEART_RATE = re.compile(
    r"\b(?:heart\s*rate|heartrate|hr\b|pulse|heart\s*beat|heartbeat|bpm)"
    + GAP
    + r"(?:in\s+the\s+)?(\d{2,3})(s)?\b"
    + r"|\b(\d{2,3})\s*(?:bpm|beats\s+(?:per|a|/)\s*min\w*)"
)
OXYGEN = re.compile(
    r"\b(?:o2|oxygen|sats?|saturation|spo2|sp02|pulse\s*ox\w*|oximeter|pulseox)"
    + GAP
    + r"(?:in\s+the\s+)?(\d{2,3})(?!\d)s?\s*%?"
    + r"|\b(\d{2})\s*%\s*(?:o2|oxygen|sat\w*|on\s+the\s+(?:pulse\s*)?ox\w*)"
)
BLOOD_PRESSURE = re.compile(r"(?<![\d/])(\d{2,3})\s*(?:/|over)\s*(\d{2,3})(?![\d/])")
BP_WORDS = re.compile(r"\b(?:bp|b/p|blood\s+pressure|pressure|systolic|diastolic|over)\b")
INFANT_AGE = re.compile(
    r"\b(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)[\s-]*"
    r"(days?|d|weeks?|wks?|wk|months?|mos?|mo)[\s-]*old\b"
    r"|\b(newborn|new\s+born|neonate)\b"
    r"|\b(?:baby|babys|son|daughter|infant|grandson|granddaughter|boy|girl)\s+(?:is\s+|age\s+)?"
    r"(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s*"
    r"(weeks?|wks?|days?|months?|mos?|mo)\b"
)
CHEMO = re.compile(r"\b(?:chemo\w*|neutropeni\w*|immunotherapy|on\s+treatment\s+for\s+cancer)\b")
WORD_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}
INFANT_DAYS = 90


def infant_under_three_months(text: str) -> bool:
    for match in INFANT_AGE.finditer(text):
        if match.group(3):
            return True
        raw, unit = (match.group(1), match.group(2)) if match.group(1) else match.group(4, 5)
        count = WORD_NUMBERS[raw] if raw in WORD_NUMBERS else int(raw)
        days = count * (1 if unit.startswith("d") else 7 if unit.startswith("w") else 30)
        if 0 < days < INFANT_DAYS:
            return True
    return False


def fahrenheit(value: float, unit: str | None) -> float:
    if unit == "c" or (unit is None and 34 <= value <= 45):
        return value * 9 / 5 + 32
    return value


def _temperatures(text: str) -> Iterator[Reading]:
    infant = infant_under_three_months(text)
    chemo = bool(CHEMO.search(text))
    seen: set[int] = set()
    for pattern in (TEMPERATURE, BARE_TEMPERATURE, DECIMAL_TEMPERATURE):
        for match in pattern.finditer(text):
            groups = [g for g in match.groups() if g]
            raw = next(g for g in groups if g[0].isdigit())
            unit = next((g for g in groups if g in ("f", "c")), None)
            value = fahrenheit(float(raw), unit)
            number_at = match.start() + match.group(0).find(raw)
            if not 95 <= value <= 115 or number_at in seen:
                continue
            seen.add(number_at)
            if value >= 104:
                yield Reading(match.start(), match.end(), "vital_signs", "vital_signs.fever_104")
            elif infant and value >= 100.4:
                yield Reading(match.start(), match.end(), "infant", "infant.fever_under_3_months")
            elif chemo and value >= 100.4:
                rule = "sepsis_meningitis.fever_on_chemo"
                yield Reading(match.start(), match.end(), "sepsis_meningitis", rule)


def readings(text: str) -> Iterator[Reading]:
    """Every number in `text` that is an emergency value (see the module docstring)."""
    for match in GLUCOSE.finditer(text):
        value = float(match.group(1))
        if match.group(2):  # mmol/L
            low, high = value < 3.0, value > 22.2
        else:
            low, high = 10 <= value < 54, value > 400
        if low or high:
            rule = "vital_signs.glucose_low" if low else "vital_signs.glucose_high"
            yield Reading(match.start(), match.end(), "vital_signs", rule)
    yield from _temperatures(text)
    for match in HEART_RATE.finditer(text):
        value = int(match.group(1) or match.group(3))
        if 20 <= value <= 40 or 150 <= value <= 300:
            yield Reading(match.start(), match.end(), "vital_signs", "vital_signs.heart_rate")
    for match in OXYGEN.finditer(text):
        value = int(match.group(1) or match.group(2))
        if 50 <= value < 92:
            yield Reading(match.start(), match.end(), "vital_signs", "vital_signs.oxygen")
    for match in BLOOD_PRESSURE.finditer(text):
        systolic, diastolic = int(match.group(1)), int(match.group(2))
        if not (60 <= systolic <= 300 and 30 <= diastolic <= 200 and systolic > diastolic):
            continue
        near = text[max(0, match.start() - 40) : match.end() + 20]
        if (systolic >= 180 or diastolic >= 120) and (BP_WORDS.search(near) or systolic >= 100):
            yield Reading(match.start(), match.end(), "vital_signs", "vital_signs.blood_pressure")
