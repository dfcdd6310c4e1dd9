#!/usr/bin/env python3
"""Render the plan report of an instance and its solution in headless Chromium and save a
screenshot of the top of the page (KPIs, filters, the first day of the timeline).

    python scripts/report_screenshot.py INSTANCE SOLUTION -o docs/img/report.png

Uses Debian's `chromium` and `chromium-driver` through selenium (dev dependency), with the same
flags as the browser test (tests/outputs/test_report_browser.py). The picture in docs/report.md
is made this way from the bundled Sønderborg week.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from selenium import webdriver

from scheduler.domain.files import load_instance, load_solution
from scheduler.outputs.report import render_report

FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instance", type=Path)
    parser.add_argument("solution", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1100)
    args = parser.parse_args()
    html = render_report(load_instance(args.instance), load_solution(args.solution))
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "plan.html"
        page.write_text(html, encoding="utf-8")
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--window-size={args.width},{args.height}")
        options.add_argument(f"--user-data-dir={Path(tmp) / 'profile'}")
        service = webdriver.ChromeService(
            executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver"
        )
        driver = webdriver.Chrome(service=service, options=options)
        try:
            driver.get(page.as_uri())
            args.output.parent.mkdir(parents=True, exist_ok=True)
            if not driver.save_screenshot(str(args.output)):
                print("screenshot failed", file=sys.stderr)
                return 1
        finally:
            driver.quit()
    print(f"screenshot written to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
