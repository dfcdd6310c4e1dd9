"""The plan report in a real headless Chromium (Debian's `chromium` and `chromium-driver`):
it renders with no console errors, the timeline is screenshotted, and the filters work.

Chromium is driven through `selenium` with the system chromedriver, so nothing is downloaded.
`make test` installs the two Debian packages when they are missing; without them these tests
are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from scheduler.domain import Instance, Solution
from scheduler.outputs.report import render_report

webdriver = pytest.importorskip("selenium.webdriver")
Select = pytest.importorskip("selenium.webdriver.support.ui").Select
By = pytest.importorskip("selenium.webdriver.common.by").By

CHROMIUM = "chromium"
CHROMEDRIVER = "chromedriver"
# What Chromium needs to run headless as root in a container, and to make no network calls.
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)

_MISSING = shutil.which(CHROMIUM) is None or shutil.which(CHROMEDRIVER) is None
if _MISSING and os.environ.get("SCHEDULER_BROWSER_TESTS") == "required":
    pytest.fail("chromium and chromedriver are required here but missing", pytrace=False)
pytestmark = pytest.mark.skipif(
    _MISSING, reason="needs Debian's chromium and chromium-driver (make test installs them)"
)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=shutil.which(CHROMEDRIVER))
    driver = webdriver.Chrome(service=service, options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def page(browser: object, tmp_path: Path, mixed: tuple[Instance, Solution]) -> object:
    path = tmp_path / "plan.html"
    path.write_text(render_report(*mixed), encoding="utf-8")
    browser.get(path.as_uri())  # type: ignore[attr-defined]
    return browser


def _visible(driver: object, selector: str) -> list[str]:
    elements = driver.find_elements(By.CSS_SELECTOR, selector)  # type: ignore[attr-defined]
    return sorted(e.text or e.get_attribute("title") for e in elements if e.is_displayed())


def test_the_report_renders_without_console_errors(page: object) -> None:
    logs = page.get_log("browser")  # type: ignore[attr-defined]
    assert [entry for entry in logs if entry["level"] in ("SEVERE", "ERROR")] == []
    assert page.title.startswith("Plan tiny-soenderborg")  # type: ignore[attr-defined]
    assert _visible(page, "#kpis .kpi .name")  # KPIs at the top
    # every session bar of the plan is drawn, and the filter count ran (so the script ran)
    assert _visible(page, ".bar.session") == ["R-1", "R-3", "R-4"]
    count = page.find_element(By.ID, "filter-count").text  # type: ignore[attr-defined]
    assert count.startswith("3 ")


def test_a_screenshot_of_the_timeline_is_a_real_image(page: object, tmp_path: Path) -> None:
    timeline = page.find_element(By.ID, "timeline")  # type: ignore[attr-defined]
    shot = tmp_path / "timeline.png"
    assert timeline.screenshot(str(shot))
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    assert width > 600 and height > 100


def test_the_outcome_filter_keeps_only_that_outcome(page: object) -> None:
    Select(page.find_element(By.ID, "filter-outcome")).select_by_value(  # type: ignore[attr-defined]
        "late_free_choice"
    )
    assert _visible(page, ".bar.session") == ["R-4"]
    assert _visible(page, "#sessions tbody tr td:first-child") == ["R-4"]
    assert _visible(page, "#free-choice tbody tr td:first-child") == ["R-4"]
    assert _visible(page, "#not-bookable tbody tr td:first-child") == []
    assert _visible(page, ".bar.booking")  # existing bookings stay as context


def test_the_site_and_discipline_filters_hide_rows(page: object) -> None:
    Select(page.find_element(By.ID, "filter-site")).select_by_value("S-NB")  # type: ignore[attr-defined]
    assert _visible(page, ".bar.session") == ["R-3"]
    rows = _visible(page, ".row .who")
    assert rows and all(name.startswith("Ergoterapeut B") for name in rows)
    Select(page.find_element(By.ID, "filter-site")).select_by_value("")  # type: ignore[attr-defined]
    Select(page.find_element(By.ID, "filter-discipline")).select_by_value("PT")  # type: ignore[attr-defined]
    assert _visible(page, ".bar.session") == ["R-1", "R-4"]
    assert _visible(page, "#not-bookable tbody tr td:first-child") == ["R-2"]
