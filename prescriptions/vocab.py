"""The prescribing vocabulary shared by the form, the checks, the FHIR export, the PDF and
the medication reminders: frequencies (with the daily times a reminder is due), routes, and
the limits a prescription must stay within."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Frequency:
    code: str
    label: str  # what the patient reads ("twice a day")
    per_day: float  # doses a day, for quantity sanity checks (0: as needed / once)
    times: tuple[str, ...]  # local "HH:MM" reminder times; empty: no reminders
    # FHIR Timing.repeat: `frequency` doses per `period` `period_unit` ("d", "h", "wk")
    fhir_frequency: int
    fhir_period: float
    fhir_period_unit: str
    as_needed: bool = False


FREQUENCIES: dict[str, Frequency] = {
    f.code: f
    for f in (
        Frequency("once_daily", "once a day", 1, ("08:00",), 1, 1, "d"),
        Frequency("twice_daily", "twice a day", 2, ("08:00", "20:00"), 2, 1, "d"),
        Frequency(
            "three_times_daily", "three times a day", 3, ("08:00", "14:00", "20:00"), 3, 1, "d"
        ),
        Frequency(
            "four_times_daily",
            "four times a day",
            4,
            ("08:00", "12:00", "16:00", "20:00"),
            4,
            1,
            "d",
        ),
        Frequency(
            "every_4_hours",
            "every 4 hours",
            6,
            ("06:00", "10:00", "14:00", "18:00", "22:00"),
            1,
            4,
            "h",
        ),
        Frequency(
            "every_6_hours", "every 6 hours", 4, ("06:00", "12:00", "18:00", "00:00"), 1, 6, "h"
        ),
        Frequency("every_8_hours", "every 8 hours", 3, ("06:00", "14:00", "22:00"), 1, 8, "h"),
        Frequency("every_12_hours", "every 12 hours", 2, ("08:00", "20:00"), 1, 12, "h"),
        Frequency("at_bedtime", "at bedtime", 1, ("22:00",), 1, 1, "d"),
        Frequency("once_weekly", "once a week", 1 / 7, ("08:00",), 1, 1, "wk"),
        Frequency("as_needed", "when needed", 0, (), 1, 1, "d", as_needed=True),
        Frequency("once", "once only", 0, (), 1, 1, "d"),
    )
}

ROUTES: dict[str, str] = {
    "oral": "By mouth",
    "sublingual": "Under the tongue",
    "topical": "On the skin",
    "transdermal": "Patch on the skin",
    "inhaled": "Inhaled",
    "nasal": "In the nose",
    "ophthalmic": "In the eye",
    "otic": "In the ear",
    "rectal": "Rectal",
    "vaginal": "Vaginal",
    "subcutaneous": "Injection under the skin",
    "intramuscular": "Injection into a muscle",
    "intravenous": "Into a vein",
}

# SNOMED CT route codes for FHIR dosageInstruction.route
ROUTE_SNOMED: dict[str, tuple[str, str]] = {
    "oral": ("26643006", "Oral route"),
    "sublingual": ("37839007", "Sublingual route"),
    "topical": ("6064005", "Topical route"),
    "transdermal": ("45890007", "Transdermal route"),
    "inhaled": ("447694001", "Respiratory tract route"),
    "nasal": ("46713006", "Nasal route"),
    "ophthalmic": ("54485002", "Ophthalmic route"),
    "otic": ("10547007", "Otic route"),
    "rectal": ("37161004", "Rectal route"),
    "vaginal": ("16857009", "Vaginal route"),
    "subcutaneous": ("34206005", "Subcutaneous route"),
    "intramuscular": ("78421000", "Intramuscular route"),
    "intravenous": ("47625008", "Intravenous route"),
}

SEVERITIES = ("contraindicated", "major", "moderate", "minor")  # most severe first
OVERRIDE_SEVERITIES = frozenset({"contraindicated", "major"})

# Limits (bad input beyond these is refused with a clear error)
MAX_ITEMS = 10
MAX_QUANTITY = 1000
MAX_DURATION_DAYS = 365
MAX_REFILLS = 11  # US federal rule for non-controlled drugs: within a year
MAX_REFILLS_CONTROLLED = 5  # schedules III-V; schedule II: none
VALID_DAYS = 365  # a prescription expires a year after it was issued
PRESCRIBE_WINDOW_DAYS = 7  # after a completed appointment
