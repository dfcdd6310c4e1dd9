"""The generator's municipality profiles: each one's policy, training sites and default sizes.

Data only: :func:`scheduler.bench.generator.generate` turns a profile into an instance. The five
seed municipalities (Vejen, Næstved, Rebild, Sønderborg, Hjørring) carry their policy preset and
their real training sites; Aarhus and København their district training centres under the law's
defaults; ``stress`` is a synthetic large municipality on Odense's districts. Sizes follow the
national volumes (Folketinget, SUU spm. 568, 2021-22): about 27 almen plans per 1,000 inhabitants
a year, roughly one therapist per two weekly referrals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from scheduler.domain import Discipline
from scheduler.domain.policy import Policy, preset

__all__ = ["PROFILES", "CourseMix", "Profile", "SiteSpec", "small_room"]


@dataclass(frozen=True)
class SiteSpec:
    """A training site of a profile: where it is, when it is open, its share of the therapists."""

    id: str
    name: str
    address: str
    lat: float
    lon: float
    weight: float = 1.0
    opens: time = time(7, 30)
    closes: time = time(16, 0)
    friday_closes: time = time(15, 30)


@dataclass(frozen=True)
class CourseMix:
    """How a profile's courses and holds look (assumptions, not seed figures: the seeds name
    the forms (individually, samtræning, hold, virtual) and "op til 3 mdr", no shares).

    Shares of the forms among new referrals (the rest individual); course lengths in weeks and
    sessions a week drawn uniformly; the hold types each site runs per discipline, their seats,
    and how full ongoing courses already keep them (a share of the seats per week)."""

    hold_share: float = 0.30
    virtual_share: float = 0.10
    either_share: float = 0.10
    weeks: tuple[int, ...] = (6, 8, 10, 12)
    sessions_per_week: tuple[int, ...] = (1, 2, 2, 2)
    minutes: tuple[int, ...] = (45, 45, 60)
    hold_types: tuple[tuple[Discipline, str], ...] = (
        (Discipline.PT, "knee-hip"),
        (Discipline.PT, "back"),
        (Discipline.PT, "heart-lung"),
        (Discipline.OT, "neuro"),
    )
    seats: tuple[int, int] = (8, 12)
    taken: tuple[float, float] = (0.6, 1.0)


@dataclass(frozen=True)
class Profile:
    """A municipality: its policy, its sites (the main one first) and its default sizes."""

    name: str
    policy: Policy
    sites: tuple[SiteSpec, ...]
    inhabitants: int
    referrals: int
    therapists: int
    default_sites: int
    load: float
    description: str
    courses: CourseMix = CourseMix()
    receipt_days: int = 1
    """Working days over which a generated batch's plans were received, up to the planning
    date: 1, the plans of the planning day (a daily planning run: no referral is due before the
    first bookable day unless its plan came late); 5 would be a weekly batch, a third of which
    is due before it can be booked."""


def small_room(site_id: str, name: str, address: str, lat: float, lon: float) -> SiteSpec:
    """A training room at a care centre or health house: smaller, shorter hours."""
    return SiteSpec(
        site_id,
        name,
        address,
        lat,
        lon,
        weight=0.5,
        opens=time(8, 0),
        closes=time(15, 30),
        friday_closes=time(15, 0),
    )


_VEJEN_SITES = (
    SiteSpec("broerup", "Brørup Sundhedscenter, Træning & Livsstil", "6650 Brørup", 55.4817, 9.0177,
             weight=3.0),
    small_room("vejen-plejecenter", "Træningslokale, plejecenter i Vejen", "6600 Vejen",
                55.4795, 9.1390),
    small_room("roedding-plejecenter", "Træningslokale, plejecenter i Rødding", "6630 Rødding",
                55.3660, 9.0630),
    small_room("holsted-plejecenter", "Træningslokale, plejecenter i Holsted", "6670 Holsted",
                55.5105, 8.9190),
)  # fmt: skip

_NAESTVED_SITES = (
    SiteSpec("naestved", "Sundhedscenter Næstved, Træning", "4700 Næstved", 55.2305, 11.7640,
             weight=4.0),
    small_room("glumsoe", "Træningslokale Glumsø", "4171 Glumsø", 55.3535, 11.6940),
    small_room("fuglebjerg", "Træningslokale Fuglebjerg", "4250 Fuglebjerg", 55.3045, 11.5490),
    small_room("fensmark", "Træningslokale Fensmark", "4684 Holmegaard", 55.2790, 11.8050),
)  # fmt: skip

_REBILD_SITES = (
    SiteSpec("stoevring", "Træningscenter Støvring", "9530 Støvring", 56.8855, 9.8385,
             weight=3.0),
    small_room("skoerping", "Træningslokale Skørping", "9520 Skørping", 56.8365, 9.8920),
    small_room("noerager", "Træningslokale Nørager", "9610 Nørager", 56.7060, 9.7350),
)  # fmt: skip

_SOENDERBORG_SITES = (
    SiteSpec("soenderborg", "Træningsenheden Sønderborg",
             "Grundtvigs Allé 150, 6400 Sønderborg", 54.9160, 9.7785, weight=3.0),
    SiteSpec("nordborg", "Træningsenheden Nordborg", "Tangshave 1, 6430 Nordborg",
             55.0585, 9.7410, weight=1.0),
    SiteSpec("graasten", "Træningsenheden Gråsten",
             "Sundhedshuset Gråsten, Ulsnæs 6, 6300 Gråsten", 54.9195, 9.5985, weight=1.0),
)  # fmt: skip

_HJOERRING_SITES = (
    SiteSpec("hjoerring", "Træningsenheden Hjørring", "9800 Hjørring", 57.4640, 9.9820,
             weight=4.0),
    small_room("sindal", "Træningslokale Sindal", "9870 Sindal", 57.4705, 10.2005),
    small_room("hirtshals", "Træningslokale Hirtshals", "9850 Hirtshals", 57.5875, 9.9600),
    small_room("vraa", "Træningslokale Vrå", "9760 Vrå", 57.3540, 9.9420),
)  # fmt: skip

_AARHUS_SITES = (
    SiteSpec("aarhus-c", "Træning Aarhus C", "8000 Aarhus C", 56.1560, 10.2050, weight=2.0),
    SiteSpec("viby", "Træning Viby", "8260 Viby J", 56.1280, 10.1620),
    SiteSpec("risskov", "Træning Risskov", "8240 Risskov", 56.1920, 10.2290),
    SiteSpec("brabrand", "Træning Brabrand", "8220 Brabrand", 56.1560, 10.1090),
    SiteSpec("lystrup", "Træning Lystrup", "8520 Lystrup", 56.2370, 10.2370),
    SiteSpec("tilst", "Træning Tilst", "8381 Tilst", 56.1880, 10.1100),
    SiteSpec("beder", "Træning Beder", "8330 Beder", 56.0610, 10.2120),
    SiteSpec("skejby", "Træning Skejby", "8200 Aarhus N", 56.1950, 10.1800),
)

_KOEBENHAVN_SITES = (
    SiteSpec("oesterbro", "Træningscenter Østerbro", "2100 København Ø", 55.7060, 12.5760),
    SiteSpec("noerrebro", "Træningscenter Nørrebro", "2200 København N", 55.6960, 12.5480),
    SiteSpec("vesterbro", "Træningscenter Vesterbro", "1620 København V", 55.6690, 12.5480),
    SiteSpec("amager", "Træningscenter Amager", "2300 København S", 55.6600, 12.6040),
    SiteSpec("valby", "Træningscenter Valby", "2500 Valby", 55.6640, 12.5150),
    SiteSpec("bispebjerg", "Træningscenter Bispebjerg", "2400 København NV", 55.7140, 12.5380),
    SiteSpec("vanloese", "Træningscenter Vanløse", "2720 Vanløse", 55.6870, 12.4900),
    SiteSpec("sydhavn", "Træningscenter Sydhavn", "2450 København SV", 55.6500, 12.5400),
)

_STRESS_SITES = (
    SiteSpec("odense-c", "Træningscenter Odense C", "5000 Odense C", 55.3960, 10.3880),
    SiteSpec("dalum", "Træningscenter Dalum", "5250 Odense SV", 55.3700, 10.3650),
    SiteSpec("vollsmose", "Træningscenter Vollsmose", "5240 Odense NØ", 55.4070, 10.4330),
    SiteSpec("tarup", "Træningscenter Tarup", "5210 Odense NV", 55.4050, 10.3350),
    SiteSpec("hjallese", "Træningscenter Hjallese", "5260 Odense S", 55.3540, 10.3980),
    SiteSpec("bolbro", "Træningscenter Bolbro", "5200 Odense V", 55.3880, 10.3480),
    SiteSpec("hoejby", "Træningscenter Højby", "5260 Odense S", 55.3340, 10.4390),
    SiteSpec("korup", "Træningscenter Korup", "5210 Odense NV", 55.4240, 10.3110),
    SiteSpec("bellinge", "Træningscenter Bellinge", "5250 Odense SV", 55.3470, 10.3190),
    SiteSpec("holluf-pile", "Træningscenter Holluf Pile", "5220 Odense SØ", 55.3530, 10.4520),
)


def _weekly(inhabitants: int) -> int:
    """A week's new almen plans at about 27 per 1,000 inhabitants a year."""
    return round(inhabitants * 27 / 1000 / 52)


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("vejen", preset("vejen"), _VEJEN_SITES, 43_000, 25, 13, 4, 0.75,
                "Vejen: Brørup Sundhedscenter and care-centre training rooms"),
        Profile("naestved", preset("naestved"), _NAESTVED_SITES, 83_000, _weekly(83_000), 21, 3,
                0.80, "Næstved: the health centre and local training rooms"),
        Profile("rebild", preset("rebild"), _REBILD_SITES, 30_000, _weekly(30_000), 8, 2, 0.70,
                "Rebild: Støvring and Skørping"),
        Profile("soenderborg", preset("soenderborg"), _SOENDERBORG_SITES, 74_000, 40, 20, 3,
                0.80, "Sønderborg: Træningsenheden in Sønderborg, Nordborg and Gråsten"),
        Profile("hjoerring", preset("hjoerring"), _HJOERRING_SITES, 64_000, _weekly(64_000), 17,
                3, 0.85, "Hjørring: Træningsenheden and local training rooms"),
        Profile("aarhus", Policy(name="aarhus"), _AARHUS_SITES, 360_000, 190, 90, 6, 0.80,
                "Aarhus: six district training centres, law defaults"),
        Profile("koebenhavn", Policy(name="koebenhavn"), _KOEBENHAVN_SITES, 650_000, 340, 100, 8,
                0.85, "København: eight district training centres, law defaults"),
        Profile("stress", Policy(name="stress"), _STRESS_SITES, 0, 1000, 250, 10, 0.85,
                "a synthetic large municipality on Odense's districts, for stress tests"),
    )
}  # fmt: skip
"""The generator's profiles by name: the five seed municipalities, aarhus, koebenhavn, stress."""
