"""A municipality's service level (kvalitetsstandard) as settings, and the five seed presets.

Where the municipal quality standards disagree, the difference is a setting here; every preset
setting quotes the sentence of its seed that it encodes. A municipality can load its own policy
from a JSON file (:func:`load_policy`).
"""

from __future__ import annotations

import json
from datetime import time
from enum import StrEnum
from pathlib import Path

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from scheduler.domain.course import Course
from scheduler.domain.wallclock import Day, LocalTime

__all__ = [
    "DEFAULT_COURSES",
    "PRESETS",
    "Anchor",
    "DayKind",
    "Policy",
    "PolicyError",
    "Postponement",
    "load_policy",
    "preset",
]


class Anchor(StrEnum):
    """The day a deadline counts from: the discharge (udskrivning) or the plan's receipt."""

    DISCHARGE = "discharge"
    RECEIVED = "received"


class DayKind(StrEnum):
    """Count calendar days, or weekdays (Monday–Friday, not holidays)."""

    CALENDAR = "calendar"
    WEEKDAYS = "weekdays"


class Postponement(StrEnum):
    """Which of the citizen's own postponements take the frit valg guarantee away.

    `past_deadline` (the default, every preset): only a wish to start after the statutory
    deadline, or unavailable dates covering every working day up to it; then the
    municipality's own target of `deadline_days` counts from the requested date. A wish for a
    day on or before the deadline (or one the plan already rules out) postpones nothing the law
    counts: the deadline and frit valg stay. `any`: every postponement takes frit valg away and
    the deadline counts from the requested date (a strict reading no seed states).
    """

    PAST_DEADLINE = "past_deadline"
    ANY = "any"


DEFAULT_COURSES: dict[str, Course] = {
    # Assumptions, not seed text: the seeds give the forms (Vejen, Næstved, Rebild, Sønderborg:
    # individually, samtræning, on a hold, virtually), "op til 3 mdr" (Hjørring) and a course
    # planned individually at the first session (Sønderborg), but no numbers per level. About
    # two sessions a week is common practice; a basal course is taken to run 8 weeks of 45
    # minutes, an avanceret one the full 3 months (12 weeks) of 60 minutes; both individual
    # unless the referral or the municipality's policy says otherwise.
    "basal": Course(sessions_per_week=2, weeks=8, minutes_per_session=45),
    "avanceret": Course(sessions_per_week=2, weeks=12, minutes_per_session=60),
}
"""The course a referral gets when neither it nor the policy says otherwise, by level."""


class Policy(BaseModel):
    """The settings that differ between municipalities. Defaults follow the law (§140)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "law"
    deadline_anchor: Anchor = Anchor.DISCHARGE
    deadline_days: int = Field(default=7, ge=1, le=60)
    deadline_day_kind: DayKind = DayKind.CALENDAR
    plan_later_keeps_free_choice: bool = Field(
        default=True,
        description=(
            "A plan-specified later start: the days run from that date and missing them still "
            "gives frit valg (law, Sønderborg), or it gives no frit valg at all (Rebild)."
        ),
    )
    citizen_postponement: Postponement = Field(
        default=Postponement.PAST_DEADLINE,
        description=(
            "Which citizen postponements take frit valg away: only one past the statutory "
            "deadline (Vejen: 'Det gælder dog ikke, hvis borgeren selv udsætter opstarten'), "
            "or any."
        ),
    )
    contact_days: int = Field(default=4, ge=0, le=30)
    contact_anchor: Anchor = Anchor.DISCHARGE
    contact_day_kind: DayKind = DayKind.CALENDAR
    free_choice_answer_hours: int | None = Field(
        default=None,
        ge=1,
        le=24 * 30,
        description="Hours the citizen has to answer a frit valg offer.",
    )
    day_start: LocalTime = time(8, 0)
    day_end: LocalTime = time(16, 0)
    grundlovsdag_closed: bool = False
    christmas_eve_closed: bool = True
    new_years_eve_closed: bool = True
    closed_days: list[Day] = Field(default_factory=list)
    horizon_days: int = Field(default=28, ge=1, le=120)
    min_notice_days: int = Field(
        default=1,
        ge=0,
        le=14,
        description="Working days between the plan's receipt and the earliest first session.",
    )
    minors_to_childrens_team: bool = Field(
        default=False, description="Citizens under 18 go to the municipal children's team."
    )
    chronic_courses_municipal_only: bool = Field(
        default=False,
        description="Chronic-disease courses stay with the municipal provider: no frit valg.",
    )

    course_defaults: dict[str, Course] = Field(
        default_factory=lambda: dict(sorted(DEFAULT_COURSES.items())),
        description=(
            "The course after the first session by `<discipline>/<level>` (e.g. `OT/basal`) or "
            "`<level>`, the most specific first; a referral's own course overrides it. Empty: "
            "courses are not planned (first sessions only)."
        ),
    )
    course_start_days: int = Field(
        default=14,
        ge=1,
        le=60,
        description=(
            "Days after the first session within which the course must be able to start "
            "(no waiting list between opstart and training)."
        ),
    )

    @field_validator("course_defaults")
    @classmethod
    def _sorted(cls, value: dict[str, Course]) -> dict[str, Course]:
        # One order whatever the source (a proto map has none): files and round trips agree.
        return dict(sorted(value.items()))

    @model_validator(mode="after")
    def _daytime(self) -> Policy:
        if self.day_end <= self.day_start:
            raise ValueError(f"day_end {self.day_end} is not after day_start {self.day_start}")
        return self


def _vejen() -> Policy:
    return Policy(
        name="vejen",
        # "Borgeren tilbydes opstart på almen genoptræning i Vejen Kommune inden for 7 dage fra
        # udskrivningsdatoen."
        deadline_anchor=Anchor.DISCHARGE,
        deadline_days=7,
        deadline_day_kind=DayKind.CALENDAR,
        # "Det gælder heller ikke, hvis genoptræningsplanen angiver, at genoptræningen af
        # sundhedsfaglige grunde først bør starte op på et senere tidspunkt."
        plan_later_keeps_free_choice=False,
        # "Hvis fristen ikke kan overholdes, har borgeren ret til at vælge en privat leverandør.
        # ... Det gælder dog ikke, hvis borgeren selv udsætter opstarten." Read: the citizen's
        # own wish must be what makes the start late, so only a wish past the deadline counts.
        citizen_postponement=Postponement.PAST_DEADLINE,
        # "Genoptræningsplanen modtages på Brørup Sundhedscenter ..., hvorefter en
        # sundhedsfaglig person kontakter borgeren med en tid for opstart." (no number of days
        # is given: the default of 4 days after discharge, as in Sønderborg, is kept)
        contact_days=4,
        contact_anchor=Anchor.DISCHARGE,
    )


def _naestved() -> Policy:
    return Policy(
        name="naestved",
        # "Hvis bopælskommunen ikke har mulighed for at tilbyde opstart af genoptræning senest
        # syv kalenderdage efter at en borger er udskrevet fra sygehuset/haft ambulant
        # konsultation, har borger ret til frit valg"
        deadline_anchor=Anchor.DISCHARGE,
        deadline_days=7,
        deadline_day_kind=DayKind.CALENDAR,
        # "... medmindre der er påført udskudt opstart af genoptræningen i genoptræningsplanen."
        plan_later_keeps_free_choice=False,
        # No contact deadline is given: the default of 4 days after discharge is kept.
        contact_days=4,
        contact_anchor=Anchor.DISCHARGE,
    )


def _rebild() -> Policy:
    return Policy(
        name="rebild",
        # "Du vil blive tilbudt en tid til opstart af træning senest 7 dage efter at kommunen har
        # modtaget din genoptræningsplan."
        deadline_anchor=Anchor.RECEIVED,
        deadline_days=7,
        deadline_day_kind=DayKind.CALENDAR,
        # "Hvis det specifikt fremgår af din genoptræningsplan, at træningen ikke må påbegyndes
        # inden for 7 dage, har du ikke ret til udvidet frit valg."
        plan_later_keeps_free_choice=False,
        # "Du vil blive kontaktet af kommunen senest 4 dage efter at Rebild Kommune har modtaget
        # din genoptræningsplan."
        contact_days=4,
        contact_anchor=Anchor.RECEIVED,
        contact_day_kind=DayKind.CALENDAR,
        # "Ved træning af børn og unge under 18 år vil opgaven som udgangspunkt varetages af
        # kommunal leverandør, ... i kraft af dennes børneteam."
        minors_to_childrens_team=True,
        # "Rehabiliteringsforløb for kronikere (KOL, hjerte-kar, diabetes) der er lægeligt
        # ordineret via en genoptræningsplan fra sygehuset varetages af kommunal leverandør."
        chronic_courses_municipal_only=True,
    )


def _soenderborg() -> Policy:
    return Policy(
        name="soenderborg",
        # "Din almene genoptræning starter senest syv dage efter din udskrivelse fra sygehuset,
        # medmindre andet er angivet i genoptræningsplanen."
        deadline_anchor=Anchor.DISCHARGE,
        deadline_days=7,
        deadline_day_kind=DayKind.CALENDAR,
        # "Hvis Træningsenheden ikke kan tilbyde dig opstart inden for syv dage efter udskrivelse
        # eller i henhold til de opstartstider, der fremgår af genoptræningsplanen, skal kommunen
        # tilbyde dig frit valg"
        plan_later_keeps_free_choice=True,
        # "Du vil senest fire dage efter udskrivelsen få tilsendt tidspunktet for opstart af
        # genoptræningen til din digitale postkasse."
        contact_days=4,
        contact_anchor=Anchor.DISCHARGE,
        contact_day_kind=DayKind.CALENDAR,
        # "Vælger du at benytte frit valg skal du give tilbagemelding til kommunen senest 72 timer
        # efter, du har modtaget tilbud om opstart af genoptræning."
        free_choice_answer_hours=72,
    )


def _hjoerring() -> Policy:
    return Policy(
        name="hjoerring",
        # "Alle genoptræningsforløb igangsættes indenfor 7 kalenderdage efter at kommunen har
        # modtaget en genoptræningsplan."
        deadline_anchor=Anchor.RECEIVED,
        deadline_days=7,
        deadline_day_kind=DayKind.CALENDAR,
        # "Hvis en borger har et sundhedsfagligt begrundet behov for at begynde
        # genoptræningsforløbet senere end de 7 dage, angiver sygehuset en startdato" (nothing
        # takes frit valg away then: the law applies)
        plan_later_keeps_free_choice=True,
        # "... vil borgeren indenfor tre hverdage blive kontaktet af en terapeut fra
        # Træningsenheden i Hjørring Kommune."
        contact_days=3,
        contact_anchor=Anchor.RECEIVED,
        contact_day_kind=DayKind.WEEKDAYS,
    )


PRESETS: dict[str, Policy] = {
    p.name: p for p in (_vejen(), _naestved(), _rebild(), _soenderborg(), _hjoerring())
}
"""The five seed municipalities' policies, by name."""


class PolicyError(ValueError):
    """A policy name or file that cannot be used; the message says why."""


def preset(name: str) -> Policy:
    """The preset policy of a seed municipality (`vejen`, `naestved`, `rebild`, ...)."""
    try:
        return PRESETS[name]
    except KeyError:
        known = ", ".join(sorted(PRESETS))
        raise PolicyError(f"unknown policy preset {name!r}; known: {known}") from None


def load_policy(path: Path) -> Policy:
    """A municipality's own policy from a JSON file with :class:`Policy`'s fields."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise PolicyError(f"{path}: not JSON: {exc.msg} at line {exc.lineno}") from None
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(policy)'}: {e['msg']}" for e in exc.errors()
        )
        raise PolicyError(f"{path}: invalid policy: {problems}") from None
