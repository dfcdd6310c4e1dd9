"""Course owners: who carries the course after each booked first session, and whether it fits.

A booked referral's course is carried by the therapist of its first session (individual,
co-training or virtual: continuity) or by a seat on a matching hold, starting in one of the
weeks :func:`scheduler.rules.courses.start_weeks` allows. Capacity is aggregate per ISO week:

- a therapist's week: the new first sessions in it plus the weekly minutes of every course the
  therapist carries in it fit in the week's free minutes after the bookings that stay;
- a hold's week: the seats already taken plus the courses on it fit in its seats.

Only full weeks of the horizon are planned; later course weeks are reported, not planned. A
course that finds no place *waits* (a soft outcome, the solve loop's third priority), it never
makes a first session infeasible. :class:`CourseOption` is one (owner, start week) choice;
:func:`options_for` lists them for a first session, :func:`allocate` is the greedy allocation
(earliest first session first, the earliest start that fits) used for plans CP-SAT did not
allocate and as the courses stage's hint.

Referrals fixed by a communicated first session that is still to come
(:attr:`Problem.pending <scheduler.planning.problem.Problem.pending>`) have a course that was
promised with that booking: :func:`fixed_options` lists its places (the booking's therapist or a
matching hold seat), and those courses take their places *before* new referrals get theirs —
first in :func:`allocate`, and weighted above every new course together in the courses
objective (:func:`fixed_course_weight`), so the optimisers maximise them first. Their first
session is a booking that stays, so its minutes are already out of the week's free minutes.
**Decision:** a fixed referral's course that finds no place waits, with its reason, like any
other; nothing is unbooked or moved for it (its first session is communicated, and new first
sessions come first because the law's deadline is on them).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date

from scheduler.domain import CourseStatus, Reason
from scheduler.planning.candidates import Candidate
from scheduler.planning.problem import Problem
from scheduler.rules.courses import course_weeks, hold_fits, start_weeks, week_start

__all__ = [
    "CourseOption",
    "CourseResult",
    "Courses",
    "allocate",
    "first_session_minutes",
    "fixed_course_weight",
    "fixed_options",
    "options_for",
    "result_for",
]


@dataclass(frozen=True, slots=True)
class CourseOption:
    """One way to carry a referral's course: a therapist (index) or a hold (index into
    `problem.holds`), from the week starting `start`."""

    referral: int
    therapist: int | None
    hold: int | None
    start: date
    weeks: tuple[date, ...]
    """The course's weeks inside the horizon's full weeks (the planned ones)."""
    beyond: int
    """Course weeks after the horizon: reported, not planned."""
    load: int
    """Per planned week: therapist minutes (a therapist owner) or 1 seat (a hold)."""

    @property
    def key(self) -> tuple[int, int | None, int | None, date]:
        return (self.referral, self.therapist, self.hold, self.start)


@dataclass(frozen=True, slots=True)
class CourseResult:
    """What a plan says of one booked referral's course."""

    status: CourseStatus
    option: CourseOption | None = None
    reason: Reason | None = None
    beyond: int = 0


Courses = dict[int, CourseOption]
"""Per booked referral index: the option that carries its course."""


def options_for(problem: Problem, referral: int, cand: Candidate) -> list[CourseOption]:
    """Every option that could carry the course of `referral` booked at `cand`, with at least
    one planned week: holds first (they save therapist time), then the first session's
    therapist; earliest start first within each. Memoised per (referral, therapist, day)."""
    therapist = problem.gaps[cand.gap].therapist
    key = (referral, therapist, cand.day)
    cached = problem.course_options.get(key)
    if cached is None:
        cached = problem.course_options[key] = _options(problem, referral, therapist, cand.day)
    return cached


def fixed_options(problem: Problem, referral: int) -> list[CourseOption]:
    """Every option that could carry the course of a fixed referral whose course is pending
    (:attr:`Problem.pending`): holds first, then its communicated first session's therapist;
    empty for any other referral."""
    if referral not in problem.pending:
        return []
    therapist, day = problem.pending[referral]
    key = (referral, -2, day)
    cached = problem.course_options.get(key)
    if cached is None:
        if therapist is None:
            cached = _template(problem, referral, day)[0]
        else:
            cached = _options(problem, referral, therapist, day)
        problem.course_options[key] = cached
    return cached


def fixed_course_weight(problem: Problem) -> int:
    """The weight of one fixed referral's course in the courses objective (a new one weighs 1):
    more than every new referral's course together, so fixed courses take their places first."""
    return 1 + sum(1 for cands in problem.candidates if cands)


def _options(problem: Problem, referral: int, therapist: int, day: date) -> list[CourseOption]:
    holds, own = _template(problem, referral, day)
    return [*holds, *(replace(o, therapist=therapist) for o in own)]


def _template(
    problem: Problem, referral: int, day: date
) -> tuple[list[CourseOption], list[CourseOption]]:
    """The hold options and the therapist options (therapist left unset) of a first session of
    `referral` on `day`: they do not depend on the therapist, so computed once per day."""
    key = (referral, -1, day)
    cached = problem.course_options.get(key)
    if cached is not None:
        return cached[0], cached[1]
    course = problem.courses[referral] if problem.courses else None
    holds: list[CourseOption] = []
    own: list[CourseOption] = []
    if course is not None:
        ref = problem.instance.referrals[referral]
        weeks = set(problem.weeks)
        runs = []
        for start in start_weeks(day, problem.instance.policy):
            run = course_weeks(start, course)
            planned = tuple(w for w in run if w in weeks)
            if planned:
                runs.append((start, planned, len(run) - len(planned)))
        for h, (_, hold) in enumerate(problem.holds):
            if hold_fits(hold, ref, course):
                holds += [
                    CourseOption(referral, None, h, start, planned, beyond, 1)
                    for start, planned, beyond in runs
                    if hold.admits(start)
                ]
        if course.by_therapist:
            own = [
                CourseOption(referral, None, None, start, planned, beyond, course.weekly_minutes)
                for start, planned, beyond in runs
            ]
    problem.course_options[key] = [holds, own]
    return holds, own


def result_for(
    problem: Problem, referral: int, day: date, option: CourseOption | None
) -> CourseResult:
    """The course status of a referral booked on `day` given the option carrying it (None:
    none). A fixed referral whose course is not pending has none (its first session has been
    held: its course is in the calendars already)."""
    course = problem.courses[referral] if problem.courses else None
    if course is None or (referral in problem.fixed and referral not in problem.pending):
        return CourseResult(CourseStatus.NONE)
    if option is not None:
        return CourseResult(CourseStatus.STARTS, option, None, option.beyond)
    starts = start_weeks(day, problem.instance.policy)
    if not any(s in set(problem.weeks) for s in starts):
        return CourseResult(CourseStatus.BEYOND_HORIZON, beyond=course.weeks)
    ref = problem.instance.referrals[referral]
    matching = [h for _, h in problem.holds if hold_fits(h, ref, course)]
    if course.by_therapist:
        reason = Reason.COURSE_THERAPIST_FULL
    elif matching:
        reason = Reason.COURSE_HOLD_FULL
    else:
        reason = Reason.COURSE_NO_HOLD
    return CourseResult(CourseStatus.WAITS, reason=reason)


def first_session_minutes(
    problem: Problem, placed: dict[int, Candidate]
) -> dict[tuple[int, date], int]:
    """Per (therapist, week): the minutes new first sessions take in it."""
    used: dict[tuple[int, date], int] = defaultdict(int)
    for cand in placed.values():
        used[(problem.gaps[cand.gap].therapist, week_start(cand.day))] += cand.length
    return used


class _Room:
    """What is left of therapists' weeks and holds' seats while courses are placed."""

    def __init__(self, problem: Problem, placed: dict[int, Candidate]) -> None:
        self.problem = problem
        self.left = dict(problem.week_free)
        for key, minutes in first_session_minutes(problem, placed).items():
            self.left[key] = self.left.get(key, 0) - minutes
        self.seats: dict[tuple[int, date], int] = {}

    def _seats(self, key: tuple[int, date]) -> int:
        hold = self.problem.holds[key[0]][1]
        return self.seats.get(key, hold.seats - hold.taken_in(key[1]))

    def take(self, option: CourseOption) -> bool:
        """Take the option's weeks if every one fits; whether it did."""
        if option.hold is not None:
            keys = [(option.hold, w) for w in option.weeks]
            if not all(self._seats(k) >= 1 for k in keys):
                return False
            for k in keys:
                self.seats[k] = self._seats(k) - 1
            return True
        assert option.therapist is not None
        tkeys = [(option.therapist, w) for w in option.weeks]
        if not all(self.left.get(k, 0) >= option.load for k in tkeys):
            return False
        for k in tkeys:
            self.left[k] = self.left.get(k, 0) - option.load
        return True


def allocate(
    problem: Problem, placed: dict[int, Candidate], given: Courses | None = None
) -> Courses:
    """Course places for a plan. The `given` places (e.g. CP-SAT's) are kept where they still
    belong to the referral's first session and fit; then every fixed referral whose course is
    pending, then every other booked referral (each group earliest first session first) gets
    the first of its options (holds first, earliest start) that still fits every planned
    week."""
    room = _Room(problem, placed)
    out: Courses = {}

    def options(r: int) -> list[CourseOption]:
        return options_for(problem, r, placed[r]) if r in placed else fixed_options(problem, r)

    for r, option in sorted((given or {}).items()):
        if (r in placed or r in problem.pending) and option in options(r) and room.take(option):
            out[r] = option
    fixed = sorted(problem.pending, key=lambda r: (problem.pending[r][1], r))
    new = sorted(placed, key=lambda r: (placed[r].day, r))
    for r in [*fixed, *new]:
        if r in out:
            continue
        for option in options(r):
            if room.take(option):
                out[r] = option
                break
    return out
