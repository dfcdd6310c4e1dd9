"""The CP-SAT model: which referral's first session goes into which free gap, and when.

Decision: one Boolean per candidate (referral × gap that fits it, see
:mod:`scheduler.planning.candidates`), at most one per referral. Constraint families, each
a small builder:

- :func:`add_one_session_per_referral`
- :func:`add_gap_capacity`: sessions in one therapist's free gap fit back to back (exact).
- :func:`add_room_capacity`: in gaps that meet a moment where rooms could run out, sessions
  get exact start minutes, no overlap per gap and a cumulative per site and day over the rooms,
  with the bookings that stay.
- :func:`add_course_capacity`: one Boolean per way to carry a booked referral's course (its
  first session's therapist or a hold seat, from a start week; see
  :mod:`scheduler.planning.courses`), at most one per referral and only with a first session
  that allows it; per therapist and full week the new first sessions and the courses carried
  fit the free minutes, per hold and week the courses fit the seats left. Fixed referrals whose
  course is pending get course places too (no first-session link: theirs is communicated),
  weighted above every new course in the objective (:func:`course_objective`).

Objective terms (:class:`Objectives`) follow the priority order: on-time count, lateness (an
unbooked referral counts as later than any booking in the horizon), courses that can start,
then a weighted tail: moved on-time tentative sessions (stability), waits, travel,
avanceret-approved therapists on basal work, and the busiest therapist's load.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from ortools.sat.python import cp_model
from ortools.sat.python import cp_model_helper as cmh

from scheduler.domain import ObjectiveWeights
from scheduler.planning.budget import Budget
from scheduler.planning.candidates import Candidate
from scheduler.planning.courses import (
    CourseOption,
    fixed_course_weight,
    fixed_options,
    options_for,
)
from scheduler.planning.free_time import critical_gaps
from scheduler.planning.problem import Problem

__all__ = [
    "FirstSessionModel",
    "Objectives",
    "add_course_capacity",
    "add_gap_capacity",
    "add_one_session_per_referral",
    "add_room_capacity",
    "build_course_model",
    "build_model",
    "candidates_of",
    "course_objective",
    "set_objective",
]

Key = tuple[int, int]
"""(referral index, candidate index within the referral's candidates)."""


class Objectives:
    """Linear expressions of the objective's priorities, best value first.

    Lateness and the tail are built when a stage first asks for them (stage 1 reads only the
    on-time count; the tail's busiest-therapist variable and its rows join the model then).
    """

    def __init__(
        self,
        on_time: cp_model.LinearExpr,
        courses: cp_model.LinearExpr,
        lateness: Callable[[], cp_model.LinearExpr],
        tail: Callable[[], cp_model.LinearExpr],
    ) -> None:
        self.on_time = on_time
        self.courses = courses
        self._make = {"lateness": lateness, "tail": tail}
        self._made: dict[str, cp_model.LinearExpr] = {}

    def _get(self, name: str) -> cp_model.LinearExpr:
        if name not in self._made:
            self._made[name] = self._make[name]()
        return self._made[name]

    def build(self) -> None:
        """Build every objective now (the tail's variable and rows join the model)."""
        for name in self._make:
            self._get(name)

    @property
    def lateness(self) -> cp_model.LinearExpr:
        return self._get("lateness")

    @property
    def tail(self) -> cp_model.LinearExpr:
        return self._get("tail")


@dataclass
class FirstSessionModel:
    """The built model with its variables, keyed so a solution can be read back."""

    problem: Problem
    model: cp_model.CpModel
    x: dict[Key, cp_model.IntVar]
    start: dict[Key, cp_model.IntVar]
    """Exact start minute (of the gap time used) for candidates in room-critical gaps."""
    objectives: Objectives
    y: dict[CourseOption, cp_model.IntVar] = field(default_factory=dict)
    """Per course option: whether it carries its referral's course."""
    cands: dict[Key, Candidate] = field(default_factory=dict)
    """The candidate of every key of `x`, made once."""

    def candidate(self, key: Key) -> Candidate:
        """The candidate of `key`, in the model or not (a plan read back through the model
        also has keys the model left out, e.g. stage 1's referrals on time for sure)."""
        cand = self.cands.get(key)
        return self.problem.candidates[key[0]][key[1]] if cand is None else cand


def candidates_of(problem: Problem, keys: Iterable[Key]) -> dict[Key, Candidate]:
    """The candidate of each key, made once (the builders below read each several times)."""
    lists = problem.candidates
    return {key: lists[key[0]][key[1]] for key in keys}


def _name(problem: Problem, key: Key, cand: Candidate) -> str:
    labels = problem.gap_labels
    label = labels.get((cand.gap, cand.at_home))
    if label is None:
        gap = problem.gaps[cand.gap]
        therapist = problem.instance.therapists[gap.therapist].id
        where = "home" if cand.at_home else problem.instance.sites[gap.site].id
        label = labels[(cand.gap, cand.at_home)] = (
            f"therapist={therapist}, day={cand.day}, at={where})"
        )
    return f"first_session(referral={problem.instance.referrals[key[0]].id}, {label}"


def add_one_session_per_referral(
    model: cp_model.CpModel, problem: Problem, x: dict[Key, cp_model.IntVar]
) -> dict[int, cp_model.LinearExpr]:
    """Each referral gets at most one first session; returns 'is booked' per referral."""
    by_referral: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    for (r, _), var in x.items():
        by_referral[r].append(var)
    assigned: dict[int, cp_model.LinearExpr] = {}
    for r, vars_ in by_referral.items():
        model.add_at_most_one(vars_)
        assigned[r] = cp_model.LinearExpr.sum(vars_)
    return assigned


def _by_gap(cands: Mapping[Key, Candidate]) -> dict[int, list[Key]]:
    groups: dict[int, list[Key]] = defaultdict(list)
    for key, cand in cands.items():
        groups[cand.gap].append(key)
    return groups


def add_gap_capacity(
    model: cp_model.CpModel,
    problem: Problem,
    x: dict[Key, cp_model.IntVar],
    cands: Mapping[Key, Candidate] | None = None,
) -> None:
    """The sessions placed in one free gap must fit in it back to back.

    For one therapist and one contiguous stretch this is exact: any set whose lengths add up to
    at most the gap's length can be sequenced without overlap. Skipped where every candidate
    together fits anyway. `cands`: the candidates of `x` (:func:`candidates_of`) if known.
    """
    cands = candidates_of(problem, x) if cands is None else cands
    for g, keys in _by_gap(cands).items():
        gap = problem.gaps[g]
        lengths = [cands[key].length for key in keys]
        if sum(lengths) > gap.length and len(keys) > 1:
            model.add(
                cp_model.LinearExpr.weighted_sum([x[key] for key in keys], lengths) <= gap.length
            )


def add_room_capacity(
    model: cp_model.CpModel,
    problem: Problem,
    x: dict[Key, cp_model.IntVar],
    critical: set[int],
    cands: Mapping[Key, Candidate] | None = None,
) -> dict[Key, cp_model.IntVar]:
    """Where rooms could run out, place sessions to the minute and cap rooms in use.

    Returns the start-minute variables it created. Every candidate in a `critical` gap gets an
    optional interval; a gap's intervals do not overlap (one therapist), and per site and day
    these sessions plus the bookings that stay never use more than `rooms` at once. Home visits
    use the therapist's time but no room. Sessions in other gaps never meet a moment where
    rooms could run out (see :func:`scheduler.planning.free_time.critical_gaps`), so they need no
    interval.

    The cumulative's own linear relaxation is weak on full days; :func:`_add_certain_room_use`
    adds the moments where sessions are certain to hold a room wherever they start in their gap
    (redundant: it only tightens the bound the search proves against). `cands`: the
    candidates of `x` (:func:`candidates_of`) if known.
    """
    cands = candidates_of(problem, x) if cands is None else cands
    start: dict[Key, cp_model.IntVar] = {}
    room_intervals: dict[tuple[int, date], list[cp_model.IntervalVar]] = defaultdict(list)
    certain: dict[tuple[int, date], list[tuple[int, int, cp_model.IntVar]]] = defaultdict(list)
    for g, keys in _by_gap(cands).items():
        gap = problem.gaps[g]
        if g not in critical:
            continue
        intervals = []
        for key in keys:
            cand = cands[key]
            lo, hi = gap.start, gap.end - cand.length
            if cand.pinned_start is not None:
                lo = hi = cand.pinned_start
            name = _name(problem, key, cand)
            s = model.new_int_var(lo, hi, f"start_{name}")
            interval = model.new_optional_fixed_size_interval_var(
                s, cand.length, x[key], f"session_{name}"
            )
            start[key] = s
            intervals.append(interval)
            if not cand.at_home:
                room_intervals[(gap.site, gap.day)].append(interval)
                if hi < lo + cand.length:
                    certain[(gap.site, gap.day)].append((hi, lo + cand.length, x[key]))
        if len(intervals) > 1:
            model.add_no_overlap(intervals)
    for (site, day), intervals in room_intervals.items():
        rooms = problem.instance.sites[site].rooms
        fixed: list[cp_model.IntervalVar] = []
        demands: list[int] = []
        profile = _room_profile(problem.room_load.get((site, day), []), rooms)
        for lo, hi, used in profile:
            fixed.append(
                model.new_fixed_size_interval_var(lo, hi - lo, f"rooms_in_use({site},{day})")
            )
            demands.append(used)
        model.add_cumulative(fixed + intervals, demands + [1] * len(intervals), rooms)
        _add_certain_room_use(model, (site, day), certain[(site, day)], profile, rooms)
    return start


def _add_certain_room_use(
    model: cp_model.CpModel,
    where: tuple[int, date],
    spans: list[tuple[int, int, cp_model.IntVar]],
    profile: list[tuple[int, int, int]],
    rooms: int,
) -> None:
    """Per moment of a site-day: the sessions certain to hold a room then, wherever they start
    in their gap, are at most the rooms the staying bookings leave free.

    A session of `length` minutes that may start from `lo` to `hi` covers [hi, lo + length)
    in every placement (`spans`: those stretches with the session's Boolean). The cumulative
    implies these sums, but its linear relaxation does not: on full days CP-SAT's bound stayed
    above the optimum until the search closed it (koebenhavn-085: proven after 2.6-3.6 s
    without them, 0.9-1.2 s with; the 1,000-referral week's bound 462 -> 461). Checked at each
    stretch's start and each change of the staying bookings' use (the sum only grows at a
    start; the free rooms only fall at a change); a moment whose sessions fit the free rooms
    anyway, or that repeats the last sum, adds nothing.
    """
    if len(spans) <= 1:
        return
    moments = sorted({a for a, _, _ in spans} | {lo for lo, _, _ in profile})
    spans = sorted(spans, key=lambda span: span[0])
    used_at = iter(profile)
    step = next(used_at, None)
    active: list[tuple[int, int, cp_model.IntVar]] = []
    next_span = 0
    last: tuple[frozenset[int], int] | None = None
    for moment in moments:
        while next_span < len(spans) and spans[next_span][0] <= moment:
            active.append(spans[next_span])
            next_span += 1
        active = [span for span in active if span[1] > moment]
        while step is not None and step[1] <= moment:
            step = next(used_at, None)
        free = rooms - (step[2] if step is not None and step[0] <= moment else 0)
        if len(active) <= free:
            continue
        seen = (frozenset(id(var) for _, _, var in active), free)
        if seen == last:
            continue
        last = seen
        model.add(cp_model.LinearExpr.sum([var for _, _, var in active]) <= free).with_name(
            f"rooms_certainly_in_use(site={where[0]}, day={where[1]}, minute={moment})"
        )


def add_course_capacity(
    model: cp_model.CpModel,
    problem: Problem,
    x: dict[Key, cp_model.IntVar],
    cands: Mapping[Key, Candidate] | None = None,
) -> dict[CourseOption, cp_model.IntVar]:
    """Course places for booked referrals, within therapists' weeks and holds' seats.

    Returns one Boolean per course option. An option needs a first session that allows it
    (the same therapist for a therapist-carried course; a day from which its start week is
    within the course-start days); a referral's course takes at most one option. Per therapist
    and full week: the new first sessions in that week plus the weekly minutes of the courses
    carried stay within the free minutes after the bookings that stay. Per hold and week: the
    seats already taken plus the courses on it stay within the seats. A course may find no
    place (all its options 0): it then waits, which the courses objective counts. A fixed
    referral whose course is pending (:attr:`Problem.pending`) gets its options without a link
    (its first session is a communicated booking; its minutes are already out of the week).
    `cands`: the candidates of `x` (:func:`candidates_of`) if known.
    """
    cands = candidates_of(problem, x) if cands is None else cands
    link: dict[CourseOption, list[cp_model.IntVar]] = defaultdict(list)
    for r in problem.pending:
        for option in fixed_options(problem, r):
            link[option] = []
    groups: dict[tuple[int, int, date], list[Key]] = defaultdict(list)
    for key, cand in cands.items():
        groups[(key[0], problem.gaps[cand.gap].therapist, cand.day)].append(key)
    for (r, _, _), keys in groups.items():
        first = cands[keys[0]]
        for option in options_for(problem, r, first):
            link[option].extend(x[k] for k in keys)
    y: dict[CourseOption, cp_model.IntVar] = {}
    per_referral: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    therapist_week: dict[tuple[int, date], tuple[list[cp_model.IntVar], list[int]]] = defaultdict(
        lambda: ([], [])
    )
    hold_week: dict[tuple[int, date], list[cp_model.IntVar]] = defaultdict(list)
    refs = problem.instance.referrals
    for option, xs in link.items():
        owner = (
            f"therapist={problem.instance.therapists[option.therapist].id}"
            if option.therapist is not None
            else f"hold={problem.holds[option.hold][1].id}"  # type: ignore[index]
        )
        var = model.new_bool_var(
            f"course(referral={refs[option.referral].id}, {owner}, start={option.start})"
        )
        if option.referral not in problem.pending:
            model.add(var <= cp_model.LinearExpr.sum(xs))
        y[option] = var
        per_referral[option.referral].append(var)
        for week in option.weeks:
            if option.therapist is not None:
                therapist_week[(option.therapist, week)][0].append(var)
                therapist_week[(option.therapist, week)][1].append(option.load)
            else:
                assert option.hold is not None
                hold_week[(option.hold, week)].append(var)
    for vars_ in per_referral.values():
        if len(vars_) > 1:
            model.add_at_most_one(vars_)
    # Weekly therapist capacity: first sessions of that week count against the same minutes.
    sessions: dict[tuple[int, date], tuple[list[cp_model.IntVar], list[int]]] = defaultdict(
        lambda: ([], [])
    )
    for key, var in x.items():
        cand = cands[key]
        week = cand.day - timedelta(days=cand.day.weekday())
        sessions[(problem.gaps[cand.gap].therapist, week)][0].append(var)
        sessions[(problem.gaps[cand.gap].therapist, week)][1].append(cand.length)
    for (t, week), (vars_, loads) in therapist_week.items():
        s_vars, s_lengths = sessions.get((t, week), ([], []))
        model.add(
            cp_model.LinearExpr.weighted_sum(vars_ + s_vars, loads + s_lengths)
            <= problem.week_free.get((t, week), 0)
        ).with_name(f"week_capacity(therapist={problem.instance.therapists[t].id}, week={week})")
    for (h, week), vars_ in hold_week.items():
        hold = problem.holds[h][1]
        left = max(0, hold.seats - hold.taken_in(week))
        if len(vars_) > left:
            model.add(cp_model.LinearExpr.sum(vars_) <= left).with_name(
                f"hold_seats(hold={hold.id}, week={week})"
            )
    return y


def course_objective(
    problem: Problem, y: dict[CourseOption, cp_model.IntVar]
) -> cp_model.LinearExpr:
    """The courses stage's objective (maximised): each new course that starts counts 1, each
    pending fixed referral's course :func:`~scheduler.planning.courses.fixed_course_weight`,
    more than all new ones together, so the promised courses take their places first."""
    heavy = fixed_course_weight(problem)
    vars_ = list(y)
    return cp_model.LinearExpr.weighted_sum(
        [y[o] for o in vars_], [heavy if o.referral in problem.pending else 1 for o in vars_]
    )


def _room_profile(spans: list[tuple[int, int]], rooms: int) -> list[tuple[int, int, int]]:
    """The rooms the staying bookings use over a day as (start, end, rooms) steps, capped at
    `rooms` so that an already over-booked moment blocks new sessions without making the model
    infeasible."""
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    steps: list[tuple[int, int, int]] = []
    level, previous = 0, None
    for moment, delta in events:
        if previous is not None and moment > previous and level > 0:
            steps.append((previous, moment, min(level, rooms)))
        level += delta
        previous = moment
    return steps


def _objectives(
    model: cp_model.CpModel,
    problem: Problem,
    x: dict[Key, cp_model.IntVar],
    cands: Mapping[Key, Candidate],
    assigned: dict[int, cp_model.LinearExpr],
    weights: ObjectiveWeights,
    y: dict[CourseOption, cp_model.IntVar],
) -> Objectives:
    def lateness() -> cp_model.LinearExpr:
        late = [(var, cands[key].lateness_days) for key, var in x.items()]
        late = [(var, days) for var, days in late if days]
        # Unbooked referrals are later than any booking in the horizon.
        unbooked_penalty = sum(
            problem.unassigned_penalty_days(r)
            for r in range(len(problem.candidates))
            if problem.candidates[r]
        )
        expr = (
            cp_model.LinearExpr.weighted_sum([v for v, _ in late], [d for _, d in late])
            + unbooked_penalty
        )
        return expr - cp_model.LinearExpr.weighted_sum(
            [assigned[r] for r in assigned], [problem.unassigned_penalty_days(r) for r in assigned]
        )

    def tail() -> cp_model.LinearExpr:
        tail_vars: list[cp_model.IntVar] = []
        tail_coeffs: list[int] = []
        load: dict[int, tuple[list[cp_model.IntVar], list[int]]] = defaultdict(lambda: ([], []))
        for key, var in x.items():
            cand = cands[key]
            cost = cand.tail_cost(weights)
            if cost:
                tail_vars.append(var)
                tail_coeffs.append(cost)
            therapist = problem.gaps[cand.gap].therapist
            load[therapist][0].append(var)
            load[therapist][1].append(cand.length)
        expr = cp_model.LinearExpr.weighted_sum(tail_vars, tail_coeffs)
        if weights.balance_minute and load:
            top = max(sum(lengths) for _, lengths in load.values())
            busiest = model.new_int_var(0, top, "busiest_therapist_new_minutes")
            for therapist, (vars_, lengths) in load.items():
                if sum(lengths) > 0:
                    model.add(
                        cp_model.LinearExpr.weighted_sum(vars_, lengths) <= busiest
                    ).with_name(f"load(therapist={problem.instance.therapists[therapist].id})")
            expr += weights.balance_minute * busiest
        return expr

    return Objectives(
        on_time=cp_model.LinearExpr.sum([var for key, var in x.items() if cands[key].on_time]),
        courses=course_objective(problem, y),
        lateness=lateness,
        tail=tail,
    )


def build_model(
    problem: Problem,
    weights: ObjectiveWeights,
    select: Callable[[int, int, Candidate], bool] | None = None,
    budget: Budget | None = None,
    *,
    courses: bool = True,
    keys: Iterable[Key] | None = None,
    all_objectives: bool = True,
) -> FirstSessionModel:
    """Build the CP-SAT model for a prepared problem (objectives are set by the solve loop).

    `select(referral, k, candidate)` says which candidates the model gets (default: all). The
    solve loop uses it to build stage 1 on the on-time candidates alone: a late session never
    helps that count, and leaving it out is always feasible, so the smaller model is exact.
    Raises :class:`~scheduler.planning.budget.BudgetExpired` once `budget` is spent.
    With `courses` False the model has no course places (stage 1: courses never constrain
    first sessions, they only wait). `keys`, when given, are the candidates instead of
    `select` (a caller that knows them need not have every candidate made to be asked).
    With `all_objectives` False the lateness and tail objectives are built only when a stage
    asks for them (stage 1 reads the on-time count alone; the tail adds a variable and a row
    per therapist), else at once, so the model is complete as built.
    """
    model = cp_model.CpModel()
    x: dict[Key, cp_model.IntVar] = {}
    made: dict[Key, Candidate] = {}
    if keys is not None:
        lists = problem.candidates
        for n, key in enumerate(keys):
            if budget is not None and n % 4096 == 0:
                budget.check()
            cand = made[key] = lists[key[0]][key[1]]
            x[key] = model.new_bool_var(_name(problem, key, cand))
    for r, cands in enumerate(problem.candidates if keys is None else ()):
        if budget is not None and r % 64 == 0:
            budget.check()
        for k, cand in enumerate(cands):
            if select is None or select(r, k, cand):
                made[(r, k)] = cand
                x[(r, k)] = model.new_bool_var(_name(problem, (r, k), cand))
    assigned = add_one_session_per_referral(model, problem, x)
    if budget is not None:
        budget.check()
    add_gap_capacity(model, problem, x, made)
    if budget is not None:
        budget.check()
    site_gaps = [problem.gaps[cand.gap] for cand in made.values() if not cand.at_home]
    critical = critical_gaps(problem.instance, site_gaps, problem.room_load)
    # A kept tentative session needs its exact minute: its gap gets start variables.
    critical |= {cand.gap for cand in made.values() if cand.pinned_start is not None}
    start = add_room_capacity(model, problem, x, critical, made)
    if budget is not None:
        budget.check()
    y = add_course_capacity(model, problem, x, made) if courses else {}
    objectives = _objectives(model, problem, x, made, assigned, weights, y)
    if all_objectives:
        objectives.build()
    return FirstSessionModel(
        problem=problem,
        model=model,
        x=x,
        start=start,
        objectives=objectives,
        y=y,
        cands=made,
    )


def set_objective(model: cp_model.CpModel, expr: cp_model.LinearExpr, maximize: bool) -> None:
    """``model.maximize(expr)`` / ``model.minimize(expr)``, with the objective's variables
    (and a maximum's negated coefficients) written to the proto in bulk (CpModel appends them
    one at a time in Python: about 50 ms for stage 1 of a København week). Same proto:
    minimise ``scaling_factor * (sum + offset)`` with the signs flipped for a maximum."""
    flat = cmh.FlatIntExpr(expr)
    model.clear_objective()  # type: ignore[no-untyped-call]
    objective = model.proto.objective
    sign = -1 if maximize else 1
    objective.vars.extend([var.index for var in flat.vars])
    objective.coeffs.extend([sign * coeff for coeff in flat.coeffs])
    objective.offset = sign * flat.offset
    objective.scaling_factor = float(sign)


def build_course_model(problem: Problem, plan: list[Key]) -> FirstSessionModel:
    """The courses stage on a plan's first sessions: every first session of `plan` fixed (a
    constant), so only the course places are decided (:func:`add_course_capacity` with those
    sessions' minutes as constants), maximising :func:`course_objective`. Exact for those first
    sessions and far smaller than the full model (a few options per booked referral instead
    of options for every candidate): the solve loop's courses stage on very large weeks."""
    model = cp_model.CpModel()
    # Distinct fixed variables (CP-SAT shares one variable per constant, which the hints of
    # the solve loop could not tell apart).
    made = candidates_of(problem, plan)
    x = {key: model.new_int_var(1, 1, _name(problem, key, made[key])) for key in plan}
    y = add_course_capacity(model, problem, x, made)
    on_time = [var for key, var in x.items() if made[key].on_time]
    zero = cp_model.LinearExpr.sum([])
    return FirstSessionModel(
        problem=problem,
        model=model,
        x=x,
        start={},
        objectives=Objectives(
            on_time=cp_model.LinearExpr.sum(on_time),
            courses=course_objective(problem, y),
            lateness=lambda: zero,
            tail=lambda: zero,
        ),
        y=y,
        cands=made,
    )
