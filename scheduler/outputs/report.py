"""The coordinator's plan report: one self-contained HTML file built from an instance and a plan.

At the top the KPIs; then a day-by-day timeline per site and therapist (a Gantt chart in plain
HTML and CSS: each calendar entry is a bar placed on the day's time axis) with the existing
bookings, the new first sessions coloured by outcome and home visits with their travel; then the
referrals flagged for frit valg (offer, letter send-by date, answer-by), the referrals not
bookable with the reason in Danish and English, and every first session. Filters by site,
discipline and outcome are plain JavaScript over ``data-*`` attributes.

Nothing is loaded at view time: the CSS and JavaScript are inlined from ``templates/``, so the
file can be mailed or opened offline. Citizens appear only by their pseudonymous referral id;
therapists and sites by name, as the coordinator knows them.

:func:`report_view` computes everything the page shows (a plain data structure, tested on its
own); :func:`render_report` fills the Jinja2 template with it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from importlib import resources

from jinja2 import Environment, StrictUndefined, select_autoescape

from scheduler.domain import Assignment, Instance, Outcome, Reason, Referral, Solution
from scheduler.outputs.letters import letter_for
from scheduler.rules.commitments import occupied_interval, staying_bookings

__all__ = [
    "OUTCOME_TEXT",
    "REASON_TEXT",
    "Bar",
    "ReportView",
    "Row",
    "render_report",
    "report_view",
]

OUTCOME_TEXT: dict[Outcome, tuple[str, str]] = {
    Outcome.ON_TIME: ("Til tiden", "On time"),
    Outcome.LATE_FREE_CHOICE: ("For sent – frit valg", "Late – frit valg"),
    Outcome.LATE_NO_RIGHT: ("For sent – uden frit valg", "Late – no frit valg"),
    Outcome.NOT_BOOKABLE: ("Kan ikke bookes", "Not bookable"),
    Outcome.REJECTED: ("Afvist – hører til et andet sted", "Rejected – belongs elsewhere"),
}
"""Each outcome in Danish and English, as the report labels it."""

REASON_TEXT: dict[Reason, tuple[str, str]] = {
    Reason.NO_QUALIFIED_THERAPIST: (
        "Ingen terapeut med den faglighed eller det speciale",
        "No therapist with the discipline or specialty",
    ),
    Reason.NO_HOME_VISIT_THERAPIST: (
        "Hjemmetræning kræves, men ingen kvalificeret terapeut kører hjemmebesøg",
        "Home training required, but no qualified therapist does home visits",
    ),
    Reason.CHOSEN_SITE_CLOSED: (
        "Det valgte træningssted har ingen kvalificeret terapeut i perioden",
        "The chosen site has no qualified therapist rostered in the horizon",
    ),
    Reason.NO_CAPACITY_IN_HORIZON: (
        "Ingen ledig tid før planlægningsperioden slutter",
        "No free slot before the planning horizon ends",
    ),
    Reason.EARLIEST_START_AFTER_HORIZON: (
        "Planen eller borgeren ønsker opstart efter planlægningsperioden",
        "The plan or the citizen asks for a start after the horizon",
    ),
    Reason.NO_CAPACITY_BY_DEADLINE: (
        "Ingen kvalificeret terapeut havde ledig tid før fristen på de dage, borgeren kunne",
        "No qualified therapist had a free slot before the deadline on the citizen's days",
    ),
    Reason.DEADLINE_SLOTS_TAKEN: (
        "De ledige tider før fristen gik til andre borgere, så flest kom i gang til tiden",
        "The free slots before the deadline went to others, to start the most on time",
    ),
    Reason.CITIZEN_UNAVAILABLE_ON_FREE_DAYS: (
        "Der var kun ledige tider før fristen på dage, borgeren ikke kunne",
        "The only free slots before the deadline were on days the citizen could not come",
    ),
    Reason.EARLIEST_START_AFTER_DEADLINE: (
        "Planen kom for sent til at starte inden fristen",
        "The plan arrived too late to start by the deadline",
    ),
    Reason.DEADLINE_BEFORE_PLANNING: (
        "Fristen var overskredet, før planen kunne lægges",
        "The deadline had passed before the plan could be made",
    ),
    Reason.PLAN_LATER_START: (
        "Udskudt opstart påkrævet som specificeret i GGOP",
        "Later start required by the rehabilitation plan",
    ),
    Reason.CITIZEN_POSTPONED: (
        "Borgeren har selv udsat opstarten",
        "The citizen asked to start later",
    ),
    Reason.CITIZEN_UNAVAILABLE: (
        "Borgeren kan ikke nogen dag inden fristen",
        "The citizen cannot come on any day before the deadline",
    ),
    Reason.SPECIALISED_AT_HOSPITAL: (
        "Genoptræning på specialiseret niveau foregår på sygehuset",
        "Specialised rehabilitation takes place at the hospital",
    ),
    Reason.SPECIALISED_REHAB_EXTERNAL: (
        "Rehabilitering på specialiseret niveau leveres af eksterne leverandører",
        "Specialised-level rehabilitation is delivered by external providers",
    ),
    Reason.CHILDRENS_TEAM: (
        "Borgere under 18 år går til kommunens børneteam",
        "Citizens under 18 go to the municipal children's team",
    ),
    Reason.COURSE_THERAPIST_FULL: (
        "Forløbet venter: terapeutens uger er fyldt inden for opstartsfristen",
        "The course waits: the therapist's weeks are full within the course-start days",
    ),
    Reason.COURSE_HOLD_FULL: (
        "Forløbet venter: holdene af den type er fulde (eller lukket for optag)",
        "The course waits: every matching hold is full (or closed to intake)",
    ),
    Reason.COURSE_NO_HOLD: (
        "Forløbet venter: intet træningssted har et hold af den type",
        "The course waits: no site runs a hold of that type",
    ),
}
"""Each reason in plain Danish and English."""

_TEMPLATES = resources.files("scheduler.outputs") / "templates"


@dataclass(frozen=True)
class Bar:
    """One entry on a therapist's day: its place on the axis (percent) and what it is."""

    kind: str
    """``booking`` (existing), ``session`` (a new or fixed first session) or ``travel``."""
    left: float
    width: float
    label: str
    title: str
    outcome: str = ""


@dataclass
class Row:
    """One therapist on one day at one site."""

    therapist_id: str
    therapist: str
    discipline: str
    bars: list[Bar] = field(default_factory=list)


@dataclass
class SiteDay:
    site_id: str
    site: str
    rows: list[Row] = field(default_factory=list)


_WEEKDAYS = (
    ("mandag", "Monday"),
    ("tirsdag", "Tuesday"),
    ("onsdag", "Wednesday"),
    ("torsdag", "Thursday"),
    ("fredag", "Friday"),
    ("lørdag", "Saturday"),
    ("søndag", "Sunday"),
)


@dataclass
class Day:
    day: date
    sites: list[SiteDay] = field(default_factory=list)

    @property
    def label(self) -> str:
        """E.g. "mandag / Monday 2026-11-30" (independent of the machine's locale)."""
        da, en = _WEEKDAYS[self.day.weekday()]
        return f"{da} / {en} {self.day.isoformat()}"


@dataclass
class ReportView:
    """Everything the page shows, computed from the instance and the plan."""

    title: str
    planning_date: date
    policy: str
    kpis: list[tuple[str, str]]
    axis_start: time
    axis_end: time
    hours: list[tuple[str, float]]
    days: list[Day]
    free_choice: list[dict[str, str]]
    not_bookable: list[dict[str, str]]
    sessions: list[dict[str, str]]
    sites: list[tuple[str, str]]
    disciplines: list[str]
    outcomes: list[tuple[str, str]]


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _stamp(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")


def _kpis(solution: Solution) -> list[tuple[str, str]]:
    k = solution.kpis
    wait = "–" if k.wait_days_mean is None else f"{k.wait_days_mean:.1f}"
    return [
        ("Henvisninger / referrals", str(k.referrals)),
        ("Til tiden / on time", f"{k.on_time} ({100 * k.on_time_share:.0f}%)"),
        ("Frit valg", str(k.free_choice_flagged)),
        ("For sent uden ret / late, no right", str(k.late_no_right)),
        ("Kan ikke bookes / not bookable", str(k.not_bookable)),
        ("Ventetid dage / wait days (mean)", wait),
        ("Hjemmebesøg / home visits", str(k.home_visits)),
        ("Kørsel min / travel minutes", str(k.travel_minutes_total)),
    ]


class _Axis:
    """The day's time axis: minutes since midnight to percent of its width."""

    def __init__(self, start: int, end: int) -> None:
        self.start, self.end = start, end

    def place(self, start: datetime, end: datetime) -> tuple[float, float]:
        a = max(_minutes(start.time()), self.start)
        b = min(_minutes(end.time()), self.end)
        span = self.end - self.start
        return round(100 * (a - self.start) / span, 3), round(100 * max(b - a, 0) / span, 3)


def _axis(instance: Instance, solution: Solution) -> _Axis:
    starts = [_minutes(instance.policy.day_start)]
    ends = [_minutes(instance.policy.day_end)]
    for t in instance.therapists:
        for entry in t.roster:
            starts.append(_minutes(entry.start))
            ends.append(_minutes(entry.end))
    for a in solution.assignments:
        occupied = occupied_interval(a)
        if occupied is not None:
            starts.append(_minutes(occupied[0].time()))
            ends.append(_minutes(occupied[1].time()))
    start = max(0, min(starts) // 60 * 60)
    end = min(24 * 60, -(-max(ends) // 60) * 60)
    return _Axis(start, end)


def _session_bars(a: Assignment, axis: _Axis, outcome_text: str) -> list[Bar]:
    assert a.start is not None and a.end is not None
    where = "hjemme / home" if a.at_home else (a.site_id or "")
    bars: list[Bar] = []
    occupied = occupied_interval(a)
    assert occupied is not None
    for s, e, text in (
        (occupied[0], a.start, "kørsel ud / travel out"),
        (a.end, occupied[1], "kørsel hjem / travel back"),
    ):
        if e > s:
            left, width = axis.place(s, e)
            bars.append(Bar("travel", left, width, "", f"{a.referral_id}: {text}"))
    left, width = axis.place(a.start, a.end)
    note = " (kommunikeret / communicated)" if a.fixed else ""
    title = (
        f"{a.referral_id} {a.start:%H:%M}–{a.end:%H:%M} {where}: {outcome_text}{note}; "
        f"frist / deadline {a.deadline}"
    )
    bars.append(Bar("session", left, width, a.referral_id, title, a.outcome.value))
    return bars


def _days(instance: Instance, solution: Solution, axis: _Axis) -> list[Day]:
    therapists = {t.id: t for t in instance.therapists}
    sites = {s.id: s for s in instance.sites}
    rows: dict[tuple[date, str, str], Row] = {}

    def row(day: date, site_id: str, therapist_id: str) -> Row:
        key = (day, site_id, therapist_id)
        if key not in rows:
            t = therapists[therapist_id]
            rows[key] = Row(t.id, t.name or t.id, t.discipline.value)
        return rows[key]

    base: dict[tuple[date, str], str] = {}
    for t in instance.therapists:
        for entry in t.roster:
            if not t.is_absent(entry.date):
                base.setdefault((entry.date, t.id), entry.site_id)
                row(entry.date, entry.site_id, t.id)

    def site_of(day: date, therapist_id: str, site_id: str | None) -> str:
        return base.get((day, therapist_id)) or site_id or ""

    fixed = {a.referral_id for a in solution.assignments if a.fixed}
    for b in staying_bookings(instance):
        if b.referral_id in fixed or b.therapist_id not in therapists:
            continue  # a communicated first session is drawn as its assignment
        day = b.start.date()
        left, width = axis.place(b.start, b.end)
        where = "hjemme / home" if b.at_home else (b.site_id or "ude / off-site")
        title = f"{b.id} {b.start:%H:%M}–{b.end:%H:%M} {where}"
        target = row(day, site_of(day, b.therapist_id, b.site_id), b.therapist_id)
        target.bars.append(Bar("booking", left, width, "", title, "booking"))
    for a in solution.assignments:
        if a.start is None or a.therapist_id is None or a.therapist_id not in therapists:
            continue
        day = a.start.date()
        target = row(day, site_of(day, a.therapist_id, a.site_id), a.therapist_id)
        target.bars.extend(_session_bars(a, axis, OUTCOME_TEXT[a.outcome][1]))

    days: dict[date, dict[str, SiteDay]] = defaultdict(dict)
    for (day, site_id, _), r in sorted(rows.items()):
        site_day = days[day].setdefault(
            site_id, SiteDay(site_id, sites[site_id].name if site_id in sites else site_id)
        )
        site_day.rows.append(r)
    return [Day(d, list(days[d].values())) for d in sorted(days)]


def _assignment_row(
    a: Assignment, referral: Referral, instance: Instance, therapist_names: dict[str, str]
) -> dict[str, str]:
    """One referral's line in the tables; `overdue` when its letter's send-by date has passed
    before the plan was made (send at once)."""
    letter = letter_for(a)
    site = a.site_id or referral.chosen_site_id or ""
    da, en = OUTCOME_TEXT[a.outcome]
    return {
        "referral_id": a.referral_id,
        "discipline": referral.discipline.value,
        "level": referral.level.value,
        "site": site,
        "where": "hjemme / home" if a.at_home else site,
        "therapist": therapist_names.get(a.therapist_id or "", ""),
        "outcome": a.outcome.value,
        "outcome_text": f"{da} / {en}",
        "start": _stamp(a.start),
        "deadline": a.deadline.isoformat(),
        "send_by": "" if letter is None else letter.send_by.isoformat(),
        "letter_kind": "" if letter is None else letter.kind.value,
        "overdue": "overdue"
        if letter is not None and letter.send_by < instance.planning_date
        else "",
        "answer_by": _stamp(a.answer_by),
        "fixed": "ja / yes" if a.fixed else "",
    }


def report_view(instance: Instance, solution: Solution) -> ReportView:
    """What the report shows, as plain data."""
    axis = _axis(instance, solution)
    names = {t.id: t.name or t.id for t in instance.therapists}
    referrals = {r.id: r for r in instance.referrals}
    rows = [
        (a, _assignment_row(a, referrals[a.referral_id], instance, names))
        for a in solution.assignments
    ]
    rows.sort(key=lambda pair: (pair[1]["start"] or "9999", pair[0].referral_id))
    not_bookable = []
    for a, row in rows:
        if a.outcome in (Outcome.NOT_BOOKABLE, Outcome.REJECTED):
            da, en = REASON_TEXT.get(a.reason, (a.reason, a.reason)) if a.reason else ("", "")
            not_bookable.append(
                {
                    **row,
                    "reason": a.reason.value if a.reason else "",
                    "reason_da": da,
                    "reason_en": en,
                    "detail": a.detail,
                }
            )
    hours = [
        (f"{m // 60:02d}:00", round(100 * (m - axis.start) / (axis.end - axis.start), 3))
        for m in range(axis.start, axis.end + 1, 60)
    ]
    site_names = {s.id: s.name for s in instance.sites}
    return ReportView(
        title=instance.name or solution.instance_name or "plan",
        planning_date=solution.planning_date,
        policy=instance.policy.name,
        kpis=_kpis(solution),
        axis_start=time(axis.start // 60, axis.start % 60),
        axis_end=time(axis.end // 60 % 24, axis.end % 60),
        hours=hours,
        days=_days(instance, solution, axis),
        free_choice=[r for a, r in rows if a.outcome is Outcome.LATE_FREE_CHOICE],
        not_bookable=not_bookable,
        sessions=[r for a, r in rows if a.start is not None],
        sites=[(s, site_names[s]) for s in sorted(site_names)],
        disciplines=sorted({t.discipline.value for t in instance.therapists}),
        outcomes=[(o.value, f"{da} / {en}") for o, (da, en) in OUTCOME_TEXT.items()],
    )


def _environment() -> Environment:
    env = Environment(
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def render_report(instance: Instance, solution: Solution) -> str:
    """The report as one HTML document with its CSS and JavaScript inline."""
    env = _environment()
    template = env.from_string((_TEMPLATES / "report.html.j2").read_text(encoding="utf-8"))
    return template.render(
        view=report_view(instance, solution),
        css=(_TEMPLATES / "report.css").read_text(encoding="utf-8"),
        js=(_TEMPLATES / "report.js").read_text(encoding="utf-8"),
    )
