"""The instance generator: deterministic, valid, realistic, and the files made from it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from scheduler.bench.generator import DEFAULT_PLANNING_DATE, GeneratorError, generate, instance_json
from scheduler.bench.manifest import BenchEntry, load_manifest, materialise
from scheduler.bench.profiles import PROFILES
from scheduler.cli import main
from scheduler.domain import Discipline, Instance, Level, PlanStartKind, Referral
from scheduler.domain.policy import Policy, preset
from scheduler.rules.calendar import WorkingCalendar
from scheduler.verify.kpis import calendar_fill
from scheduler.verify.validation import Severity, validate_instance

ROOT = Path(__file__).resolve().parent.parent.parent
INSTANCES = ROOT / "instances"
SEED_PROFILES = ("vejen", "naestved", "rebild", "soenderborg", "hjoerring")


def _minute(moment: datetime) -> int:
    return moment.hour * 60 + moment.minute


def own_problems(instance: Instance) -> list[str]:
    """Checked here independently of scheduler.verify.validation: bookings on the grid, inside a
    roster
    entry, not on a day of absence, never two at once for a therapist, never more at a site than
    it has rooms; rosters on working days of the horizon within the site's opening hours."""
    problems: list[str] = []
    cal = WorkingCalendar(instance.policy)
    first = instance.planning_date + timedelta(days=1)
    last = instance.planning_date + timedelta(days=instance.policy.horizon_days)
    sites = {s.id: s for s in instance.sites}
    therapists = {t.id: t for t in instance.therapists}
    for t in instance.therapists:
        for e in t.roster:
            hours = sites[e.site_id].hours_on(e.date)
            if not (first <= e.date <= last and cal.is_working_day(e.date)):
                problems.append(f"{t.id} rostered on {e.date}, not a working day of the horizon")
            if not any(h.open <= e.start and e.end <= h.close for h in hours):
                problems.append(f"{t.id} rostered outside opening hours on {e.date}")
            if t.is_absent(e.date):
                problems.append(f"{t.id} rostered on {e.date} while absent")
    busy: dict[tuple[str, date], set[int]] = defaultdict(set)
    in_use: dict[tuple[str, date, int], int] = defaultdict(int)
    for b in instance.bookings:
        t = therapists[b.therapist_id]
        day = b.start.date()
        if _minute(b.start) % 15 or _minute(b.end) % 15:
            problems.append(f"{b.id} is off the 15-minute grid")
        if not any(
            e.date == day and e.start <= b.start.time() and b.end.time() <= e.end for e in t.roster
        ):
            problems.append(f"{b.id} is outside the roster of {t.id}")
        for slot in range(_minute(b.start) // 15, _minute(b.end) // 15):
            if slot in busy[t.id, day]:
                problems.append(f"{b.id} overlaps another booking of {t.id}")
            busy[t.id, day].add(slot)
            if b.site_id is not None:
                in_use[b.site_id, day, slot] += 1
                if in_use[b.site_id, day, slot] > sites[b.site_id].rooms:
                    problems.append(f"{b.id}: more bookings at {b.site_id} than rooms")
        if b.at_home and b.site_id is not None:
            problems.append(f"{b.id}: a home visit in a room")
    return problems


def assert_valid(instance: Instance) -> None:
    assert own_problems(instance) == []
    problems = validate_instance(instance)
    assert [p for p in problems if p.severity is Severity.ERROR] == []
    # The only warning by design: about 1 avanceret referral in 60 names a specialty nobody of
    # its discipline is approved for (the solver must report it as not bookable).
    approved = {(t.discipline, s) for t in instance.therapists for s in t.specialties}
    uncovered = {
        r.id
        for r in instance.referrals
        if r.level is Level.AVANCERET and (r.discipline, r.specialty) not in approved
    }
    for problem in problems:
        assert problem.code == "no_qualified_therapist", str(problem)
        assert any(f"({rid})" in problem.where for rid in uncovered), str(problem)


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_json() -> None:
    assert instance_json(generate("vejen", 7)) == instance_json(generate("vejen", 7))


def test_different_seed_gives_a_different_instance() -> None:
    assert instance_json(generate("vejen", 7)) != instance_json(generate("vejen", 8))


def test_generation_does_not_depend_on_hash_seed_or_process() -> None:
    def run(hash_seed: str) -> str:
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-m", "scheduler", "generate", "--profile", "rebild", "--seed", "5"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            encoding="utf-8",
        )
        return out.stdout

    first = run("1")
    assert first == run("2")
    assert first == instance_json(generate("rebild", 5))


def test_load_changes_calendars_but_not_people_or_referrals() -> None:
    light = generate("soenderborg", 3, load=0.70)
    heavy = generate("soenderborg", 3, load=0.95)
    assert light.therapists == heavy.therapists
    assert light.sites == heavy.sites
    assert light.referrals == heavy.referrals
    assert len(heavy.bookings) > len(light.bookings)


# --------------------------------------------------------------------------- validity


@pytest.mark.parametrize("profile", SEED_PROFILES)
def test_seed_profiles_generate_valid_instances(profile: str) -> None:
    instance = generate(profile, 2)
    assert instance.policy == preset(profile)
    assert_valid(instance)


@pytest.mark.parametrize("profile", ["aarhus", "stress"])
def test_big_profiles_validate_at_a_reduced_size(profile: str) -> None:
    instance = generate(profile, 2, referrals=60, therapists=24)
    assert instance.policy == Policy(name=profile)
    assert len(instance.sites) == PROFILES[profile].default_sites
    assert_valid(instance)


def test_koebenhavn_full_size() -> None:
    instance = generate("koebenhavn", 1)
    assert (len(instance.referrals), len(instance.therapists), len(instance.sites)) == (340, 100, 8)
    assert instance.policy == Policy(name="koebenhavn")
    assert abs(calendar_fill(instance) - 0.85) < 0.01
    assert_valid(instance)


def test_load_zero_gives_empty_calendars() -> None:
    # A day with no booked minutes has no team meeting to keep at its start either.
    instance = generate("vejen", 1, load=0.0)
    assert instance.bookings == []
    assert calendar_fill(instance) == 0.0
    assert_valid(instance)


@pytest.mark.parametrize("load", [0.70, 0.85, 0.95])
def test_high_loads_stay_valid_and_rooms_hold(load: float) -> None:
    instance = generate("vejen", 4, load=load, home_share=0.3)
    assert_valid(instance)


def test_extra_sites_beyond_the_profile_are_made_up_nearby() -> None:
    instance = generate("rebild", 1, sites=5, therapists=10)
    assert len(instance.sites) == 5
    assert all(any(e.site_id == s.id for t in instance.therapists for e in t.roster)
               for s in instance.sites)  # fmt: skip
    assert_valid(instance)


# --------------------------------------------------------------------------- realism


def test_default_sizes_follow_the_national_volumes() -> None:
    sizes = {name: (p.referrals, p.therapists, p.default_sites) for name, p in PROFILES.items()}
    assert sizes["vejen"][0] == 25
    assert sizes["soenderborg"] == (40, 20, 3)
    assert sizes["aarhus"][0] == 190
    assert sizes["koebenhavn"] == (340, 100, 8)
    assert sizes["stress"] == (1000, 250, 10)
    # ~27 per 1,000 inhabitants a year
    assert sizes["naestved"][0] == 43
    assert sizes["rebild"][0] == 16
    assert sizes["hjoerring"][0] == 33
    for name, (referrals, therapists, _) in sizes.items():
        if name not in ("koebenhavn", "stress"):
            assert 1.5 <= referrals / therapists <= 2.5, name
        assert 0.65 <= PROFILES[name].load <= 0.85


def test_soenderborg_has_its_three_real_sites() -> None:
    instance = generate("soenderborg", 1)
    addresses = {s.name: s.address for s in instance.sites}
    assert addresses == {
        "Træningsenheden Sønderborg": "Grundtvigs Allé 150, 6400 Sønderborg",
        "Træningsenheden Nordborg": "Tangshave 1, 6430 Nordborg",
        "Træningsenheden Gråsten": "Sundhedshuset Gråsten, Ulsnæs 6, 6300 Gråsten",
    }
    lats = {s.id: s.coordinates.lat for s in instance.sites}
    assert lats["nordborg"] > lats["soenderborg"]  # Nordborg is north on Als


def test_vejen_trains_at_broerup_and_care_centres() -> None:
    names = [s.name for s in generate("vejen", 1).sites]
    assert names[0].startswith("Brørup Sundhedscenter")
    assert all("plejecenter" in n for n in names[1:])


def test_requested_sizes_and_shares_hold_approximately() -> None:
    instance = generate(
        "soenderborg", 9, referrals=800, therapists=200, avanceret_share=0.3, home_share=0.2
    )
    referrals = instance.referrals
    n = len(referrals)
    assert (n, len(instance.therapists)) == (800, 200)

    def share(predicate: Callable[[Referral], object]) -> float:
        return sum(1 for r in referrals if predicate(r)) / n

    assert abs(share(lambda r: r.level is Level.AVANCERET) - 0.30) < 0.05
    assert abs(share(lambda r: r.home_training) - 0.20) < 0.05
    assert abs(share(lambda r: r.plan_start_date is not None) - 0.08) < 0.03
    assert share(lambda r: r.plan_start_kind is PlanStartKind.EARLIER) > 0
    assert abs(share(lambda r: r.postponed_to is not None) - 0.05) < 0.025
    assert abs(share(lambda r: r.received_date - r.discharge_date <= timedelta(1)) - 0.82) < 0.05
    assert max(r.received_date - r.discharge_date for r in referrals) <= timedelta(6)
    assert abs(share(lambda r: r.chosen_site_id is not None) - 0.8 * 0.2) < 0.05
    assert 0.02 < share(lambda r: r.unavailable_dates) < 0.25
    assert share(lambda r: r.first_session_minutes == 60) > 0.7
    assert 0.05 < share(lambda r: r.first_session_minutes != 60) < 0.3
    assert 0 < share(lambda r: r.chronic_course) < 0.1
    assert all(16 <= r.age <= 95 for r in referrals)
    assert share(lambda r: r.age < 18) < 0.03
    avanceret = [r for r in referrals if r.level is Level.AVANCERET]
    approved = {(t.discipline, s) for t in instance.therapists for s in t.specialties}
    uncovered = [r for r in avanceret if (r.discipline, r.specialty) not in approved]
    assert 0 < len(uncovered) < 0.06 * len(avanceret)

    therapists = instance.therapists
    pt = sum(1 for t in therapists if t.discipline is Discipline.PT) / len(therapists)
    assert abs(pt - 0.6) < 0.08
    assert abs(sum(1 for t in therapists if t.specialties) / len(therapists) - 0.3) < 0.05
    assert all(1 <= len(t.specialties) <= 2 for t in therapists if t.specialties)
    assert abs(sum(1 for t in therapists if t.home_visits) / len(therapists) - 0.3) < 0.08
    assert any(t.absences for t in therapists)


def test_referrals_arrived_in_the_last_week_with_pseudonymous_ids() -> None:
    instance = generate("hjoerring", 4, planning_date=date(2026, 3, 13))
    cal = WorkingCalendar(instance.policy)
    window = cal.working_days(date(2026, 3, 9), date(2026, 3, 13))
    assert instance.planning_date == date(2026, 3, 13)
    for r in instance.referrals:
        assert r.received_date in window
        assert r.id.startswith("R-") and len(r.id) == 6


def test_rebild_never_generates_minors() -> None:
    instance = generate("rebild", 6, referrals=1500)
    assert min(r.age for r in instance.referrals) >= 18


def test_the_default_planning_date_is_a_friday() -> None:
    assert DEFAULT_PLANNING_DATE.weekday() == 4
    assert generate("rebild", 1).planning_date == DEFAULT_PLANNING_DATE


@pytest.mark.parametrize("load", [0.65, 0.85, 0.95])
def test_calendar_fill_is_close_to_the_requested_load(load: float) -> None:
    assert abs(calendar_fill(generate("naestved", 2, load=load)) - load) < 0.01


def test_free_time_is_fragmented_but_has_some_hours() -> None:
    instance = generate("soenderborg", 1, load=0.85)
    booked: dict[tuple[str, date], list[tuple[int, int]]] = defaultdict(list)
    for b in instance.bookings:
        booked[b.therapist_id, b.start.date()].append((_minute(b.start), _minute(b.end)))
    gaps: list[int] = []
    for t in instance.therapists:
        for e in t.roster:
            cursor = e.start.hour * 60 + e.start.minute
            for start, end in sorted(booked[t.id, e.date]):
                if start > cursor:
                    gaps.append(start - cursor)
                cursor = end
            end_of_day = e.end.hour * 60 + e.end.minute
            if end_of_day > cursor:
                gaps.append(end_of_day - cursor)
    small = sum(1 for g in gaps if g < 60)
    hours = sum(1 for g in gaps if g >= 60)
    assert small > hours > len(instance.referrals)


def test_rooms_bind_sometimes_but_not_usually() -> None:
    instance = generate("soenderborg", 1, load=0.85)
    rooms = {s.id: s.rooms for s in instance.sites}
    based: dict[str, set[str]] = defaultdict(set)
    for t in instance.therapists:
        based[t.roster[0].site_id].add(t.id)
    for site_id, count in rooms.items():
        assert 0.6 * len(based[site_id]) <= count <= 0.9 * len(based[site_id]) + 1
    in_use: dict[tuple[str, datetime], int] = defaultdict(int)
    for b in instance.bookings:
        moment = b.start
        while moment < b.end and b.site_id is not None:
            in_use[b.site_id, moment] += 1
            moment += timedelta(minutes=15)
    full = sum(1 for (site_id, _), n in in_use.items() if n == rooms[site_id])
    assert 0 < full < 0.5 * len(in_use)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"profile": "odense"}, "unknown profile 'odense'; known: vejen, naestved"),
        ({"referrals": -1}, "referrals must be between"),
        ({"load": 1.2}, "load must be between"),
        ({"avanceret_share": 1.5}, "avanceret_share must be between"),
        ({"sites": 4, "therapists": 3}, "4 sites need at least as many therapists"),
    ],
)
def test_bad_profile_or_parameters_give_a_clear_error(
    kwargs: dict[str, object], message: str
) -> None:
    profile = str(kwargs.pop("profile", "vejen"))
    with pytest.raises(GeneratorError, match=message):
        generate(profile, 1, **kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- bundled files


@pytest.mark.parametrize("profile", SEED_PROFILES)
def test_bundled_instance_equals_its_regeneration(profile: str) -> None:
    path = INSTANCES / f"{profile}-week.json"
    text = path.read_text(encoding="utf-8")
    stored = Instance.model_validate_json(text)
    assert stored.name == f"{profile}-week seed=1"
    regenerated = generate(profile, 1)
    assert stored == regenerated
    assert text == instance_json(regenerated)


# --------------------------------------------------------------------------- benchmark manifest


def test_bench_manifest_lists_five_profiles_at_three_loads() -> None:
    entries = load_manifest(INSTANCES / "bench" / "manifest.json")
    families = {(e.profile, e.load) for e in entries}
    assert families == {
        (p, load)
        for p in ("vejen", "soenderborg", "aarhus", "koebenhavn", "stress")
        for load in (0.70, 0.85, 0.95)
    }
    assert len({(e.overrides.avanceret_share, e.overrides.home_share) for e in entries}) > 1
    small = next(e for e in entries if e.name == "vejen-095")
    instance = materialise(small)
    assert abs(calendar_fill(instance) - 0.95) < 0.01
    assert instance == materialise(small)
    assert f"seed={small.seed}" in instance.name


def test_materialise_applies_the_overrides() -> None:
    entry = BenchEntry.model_validate(
        {"name": "x", "profile": "rebild", "seed": 3, "load": 0.8, "overrides": {"referrals": 7}}
    )
    instance = materialise(entry)
    assert len(instance.referrals) == 7
    assert instance == generate("rebild", 3, load=0.8, referrals=7)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        ('{"entries": [{"name": "a", "profile": "x", "seed": 1, "load": 0.8}]}', "unknown profile"),
        (
            '{"entries": [{"name": "a", "profile": "vejen", "seed": 1, "load": 0.8},'
            ' {"name": "a", "profile": "vejen", "seed": 2, "load": 0.8}]}',
            "used twice",
        ),
        ('{"entries": [{"name": "a", "profile": "vejen", "seed": 1, "load": 2}]}', "load"),
        ('{"entries": [{"name": "a", "profile": "vejen", "seed": 1, "lod": 0.8}]}', "lod"),
    ],
)
def test_a_bad_manifest_is_reported(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(GeneratorError, match=message):
        load_manifest(path)


def test_a_missing_manifest_is_reported(tmp_path: Path) -> None:
    with pytest.raises(GeneratorError, match="cannot read"):
        load_manifest(tmp_path / "nope.json")


# --------------------------------------------------------------------------- CLI


def test_cli_writes_the_file_and_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "rebild.json"
    code = main(["generate", "--profile", "rebild", "--seed", "2", "--load", "0.9", "-o", str(out)])
    captured = capsys.readouterr()
    assert code == 0
    assert captured.out == ""
    assert "rebild-week seed=2 load=0.9: 2 sites" in captured.err
    instance = Instance.model_validate_json(out.read_text(encoding="utf-8"))
    assert instance == generate("rebild", 2, load=0.9)
    assert f"calendar fill {calendar_fill(instance):.1%}" in captured.err


def test_cli_writes_to_stdout_without_output(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "generate", "--profile", "vejen", "--seed", "1", "--referrals", "5",
            "--therapists", "6", "--sites", "2", "--avanceret-share", "0.5",
            "--home-share", "0", "--planning-date", "2026-06-12",
        ]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0
    data = json.loads(captured.out)
    assert data["planning_date"] == "2026-06-12"
    assert len(data["referrals"]) == 5
    assert len(data["therapists"]) == 6
    assert "5 referrals" in captured.err


def test_cli_unknown_profile_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["generate", "--profile", "odense", "--seed", "1"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert "unknown profile 'odense'; known: vejen, naestved, rebild" in captured.err
    assert "Traceback" not in captured.err


def test_cli_bad_value_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--profile", "vejen", "--seed", "1", "--load", "1.5"]) == 2
    assert "load must be between" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["generate", "--profile", "vejen", "--seed", "1", "--planning-date", "27/11"])
    assert exc.value.code == 2
    assert "not a date" in capsys.readouterr().err


def test_cli_unwritable_output_is_a_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "missing-folder" / "x.json"
    code = main(["generate", "--profile", "rebild", "--seed", "1", "-o", str(target)])
    assert code == 1
    assert "cannot write" in capsys.readouterr().err


def test_stress_national_is_98_independent_municipal_weeks() -> None:
    entries = load_manifest(INSTANCES / "bench" / "stress-national.json")
    assert len(entries) == 98
    assert {e.profile for e in entries} == {
        "vejen", "naestved", "rebild", "soenderborg", "hjoerring", "aarhus", "koebenhavn"
    }  # fmt: skip
    assert len({(e.profile, e.seed) for e in entries}) == 98


def test_bench_manifest_has_a_fragmented_family() -> None:
    entries = load_manifest(INSTANCES / "bench" / "manifest.json")
    fragmented = [e for e in entries if e.overrides.fragmentation]
    assert {e.name for e in fragmented} == {
        "koebenhavn-fragmented-085",
        "koebenhavn-fragmented-095",
    }
