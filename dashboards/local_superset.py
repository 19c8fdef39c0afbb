"""A local Superset for the shipped dashboards: set up, import, serve, screenshot.

Runs with Superset's own environment (`.venv-superset`, made by `make dashboards` from
requirements-superset.txt), never the project's: Superset pins SQLAlchemy 1.4 and pandas 2,
the project runs SQLAlchemy 2.1 and pandas 3. Only the standard library, PyYAML, Superset's CLI
and Selenium (a Superset dependency) are used here.

    python -m dashboards.local_superset import       (make dashboards)
    python -m dashboards.local_superset serve        (make superset)
    python -m dashboards.local_superset screenshots
                                                          (make dashboard-screenshots)

Superset keeps its metadata database, secret key and admin password in `<GOGAEK_DATA_DIR>/superset`
(mode 0700); the dashboards read `<GOGAEK_SERVING_DIR>/bi.duckdb` read-only.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dashboards.bundle import bundle_contents, bundle_zip, load_bundle
from ingest.settings import Settings

CONFIG = Path(__file__).resolve().parent / "superset_config.py"
ADMIN = "admin"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
WINDOW_WIDTH = 1600
WINDOW_HEIGHT = 1200


@dataclass(frozen=True)
class Paths:
    home: Path  # Superset's own files
    bi_file: Path
    screenshots: Path

    @classmethod
    def from_settings(cls, settings: Settings) -> Paths:
        home = Path(settings.data_dir) / "superset"
        return cls(
            home=home,
            bi_file=Path(settings.serving_dir) / "bi.duckdb",
            screenshots=home / "screenshots",
        )

    @property
    def password_file(self) -> Path:
        return self.home / "admin_password"


def _private_file(path: Path, content: str) -> None:
    path.touch(mode=0o600, exist_ok=False)
    path.write_text(content + "\n", encoding="utf-8")


def _env(paths: Paths) -> dict[str, str]:
    return {
        **os.environ,
        "SUPERSET_CONFIG_PATH": str(CONFIG),
        "FLASK_APP": "superset",
        "GOGAEK_SUPERSET_HOME": str(paths.home),
        "SUPERSET_LOAD_EXAMPLES": "no",
    }


def _superset(paths: Paths, *args: str, quiet: bool = True) -> None:
    """Run Superset's CLI from this environment; on failure, show its output and stop."""
    executable = Path(sys.executable).parent / "superset"
    result = subprocess.run(
        [str(executable), *args],
        env=_env(paths),
        text=True,
        stdout=subprocess.PIPE if quiet else None,
        stderr=subprocess.STDOUT if quiet else None,
    )
    if result.returncode != 0:
        sys.exit(
            f"`superset {' '.join(args)}` failed (exit {result.returncode}):\n"
            f"{(result.stdout or '')[-4000:]}"
        )


def setup(paths: Paths) -> None:
    """Metadata database, admin user and roles; safe to repeat (migrations and roles are
    idempotent, the key and the password are made once)."""
    paths.home.mkdir(parents=True, exist_ok=True)
    paths.home.chmod(0o700)
    if not (paths.home / "secret_key").exists():
        _private_file(paths.home / "secret_key", secrets.token_urlsafe(48))
    if not paths.password_file.exists():
        _private_file(paths.password_file, secrets.token_urlsafe(12))
    _superset(paths, "db", "upgrade")
    _superset(
        paths,
        "fab",
        "create-admin",
        "--username",
        ADMIN,
        "--firstname",
        "gogaek",
        "--lastname",
        "admin",
        "--email",
        "admin@localhost",
        "--password",
        admin_password(paths),
    )
    _superset(paths, "init")


def admin_password(paths: Paths) -> str:
    return paths.password_file.read_text(encoding="utf-8").strip()


def import_dashboards(paths: Paths) -> None:
    """Import the shipped databases, datasets, charts and dashboards, replacing earlier imports.

    Superset's `import-dashboards` CLI (and the UI's dashboard import) keeps an existing
    database, dataset or chart as it is and only replaces the dashboard, so an edited chart or
    a moved BI file would never arrive. The assets import (`ImportAssetsCommand`, what
    `POST /api/v1/assets/import/` runs, "for managing Superset assets externally under source
    control") replaces every object of the bundle by its uuid and leaves the rest alone.
    """
    if not paths.bi_file.exists():
        sys.exit(
            f"{paths.bi_file} does not exist: run `make demo` (or `make publish` after a "
            "build) first; the dashboards read the published BI file."
        )
    setup(paths)
    # The same files as a zip, for Superset's UI (Dashboards → Import) or another instance.
    archive = paths.home / "gogaek_dashboards.zip"
    archive.write_bytes(bundle_zip(paths.bi_file.parent))
    os.environ.update(_env(paths))
    from flask import g
    from superset.app import create_app

    with create_app().app_context():
        # Superset's models can only be imported once the app exists.
        from superset import security_manager
        from superset.commands.importers.v1.assets import ImportAssetsCommand

        g.user = security_manager.find_user(username=ADMIN)
        ImportAssetsCommand(bundle_contents(paths.bi_file.parent)).run()
    bundle = load_bundle()
    print(
        f"Imported {len(bundle.dashboards)} dashboards, {len(bundle.charts)} charts and "
        f"{len(bundle.datasets)} datasets into Superset ({paths.home / 'superset.db'}), "
        f"reading {paths.bi_file} read-only; the same bundle for Superset's own import: "
        f"{archive}."
    )
    print(f"Log in as {ADMIN!r} with the password in {paths.password_file}.")


def dashboard_slugs() -> list[str]:
    return sorted(dashboard["slug"] for dashboard in load_bundle().dashboards.values())


def serve(paths: Paths, port: int) -> None:
    print(f"Superset on http://127.0.0.1:{port}/ — dashboards:")
    for slug in dashboard_slugs():
        print(f"  http://127.0.0.1:{port}/superset/dashboard/{slug}/")
    print(f"user {ADMIN!r}, password in {paths.password_file}")
    executable = Path(sys.executable).parent / "superset"
    os.execve(
        str(executable),
        [str(executable), "run", "-h", "127.0.0.1", "-p", str(port), "--with-threads"],
        _env(paths),
    )


@contextmanager
def running_superset(paths: Paths, port: int) -> Iterator[str]:
    """Superset's web server on localhost for as long as the block runs."""
    base = f"http://127.0.0.1:{port}"
    log = (paths.home / "webserver.log").open("w", encoding="utf-8")
    executable = Path(sys.executable).parent / "superset"
    server = subprocess.Popen(
        [str(executable), "run", "-h", "127.0.0.1", "-p", str(port), "--with-threads"],
        env=_env(paths),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit(
                    f"Superset did not start on port {port}; see {paths.home / 'webserver.log'}"
                )
            time.sleep(1)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


# What a chart looks like to a reader once it has data: a canvas (ECharts), an SVG, or table rows.
_CHART_STATE_JS = """
return Array.from(document.querySelectorAll('[data-test="dashboard-component-chart-holder"]'))
  .filter(holder => !holder.closest('.dashboard-markdown'))
  .map(holder => ({
    name: (holder.querySelector('[data-test="editable-title"], .header-title') || {}).innerText
          || '',
    loading: !!holder.querySelector('[data-test="loading-indicator"], .loading'),
    error: !!holder.querySelector('[role="alert"], [data-test="error-tooltip"], .alert-danger'),
    empty: !!holder.querySelector('[data-test="empty-state"]'),
    drawn: !!holder.querySelector('canvas, svg, table tbody tr, .header-line'),
  }));
"""


# How tall the dashboard is: the bottom of its grid (the last row), else the document's height.
# Not the document alone: it is at least as tall as the viewport, so it never shrinks to fit.
_PAGE_HEIGHT_JS = """
const grid = document.querySelector('.grid-container');
if (grid) { return Math.ceil(grid.getBoundingClientRect().bottom + window.scrollY + 24); }
return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight);
"""


def _set_viewport(driver: Any, height: int) -> None:
    """The page's viewport (not the window, which also counts the browser's own bars)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": WINDOW_WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


def _fit_viewport_to_page(driver: Any, settled: Callable[[Any], bool]) -> int:
    """Grow the viewport to the page's full height until the height no longer changes (charts
    drawn at their final size can make the page taller), waiting for every chart each time."""
    from selenium.webdriver.support.ui import WebDriverWait

    height = 0
    for _ in range(6):
        wanted = int(driver.execute_script(_PAGE_HEIGHT_JS))
        if wanted == height:
            break
        height = wanted
        _set_viewport(driver, height)
        time.sleep(2)
        WebDriverWait(driver, 120, poll_frequency=1).until(settled)
    driver.execute_script("window.scrollTo(0, 0)")
    time.sleep(1)
    return height


def _log_in(driver: Any, base: str, password: str, attempts: int = 3) -> None:
    """Log in as the admin; again when Superset sends the browser back to the login page (it
    sometimes does right after it started, before the session holds)."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    for attempt in range(1, attempts + 1):
        driver.get(f"{base}/login/")
        WebDriverWait(driver, 60).until(
            expected_conditions.presence_of_element_located((By.ID, "username"))
        )
        driver.find_element(By.ID, "username").send_keys(ADMIN)
        driver.find_element(By.ID, "password").send_keys(password + "\n")
        try:
            WebDriverWait(driver, 20).until(
                lambda d: (
                    "/login" not in d.current_url
                    and d.execute_script("return document.readyState") == "complete"
                )
            )
            if "/login" not in driver.current_url:
                return
        except TimeoutException:
            pass
        if attempt == attempts:
            sys.exit(f"could not log in to Superset as {ADMIN!r} ({attempts} attempts)")
        time.sleep(3)


def screenshots(paths: Paths, port: int, out_dir: Path) -> None:
    """Open every shipped dashboard in headless Chromium and save a full-page PNG of it.

    Fails when a chart shows an error, no data, or nothing drawn after the page settled.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    for binary in (CHROMIUM, CHROMEDRIVER):
        if not Path(binary).exists():
            sys.exit(
                f"{binary} not found: install Debian's chromium and chromium-driver "
                "(`apt-get install chromium chromium-driver`), or set CHROMIUM and "
                "CHROMEDRIVER"
            )
    import_dashboards(paths)
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = Path(tempfile.mkdtemp(prefix="gogaek-chromium-"))
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--lang=ko-KR",
        f"--window-size={WINDOW_WIDTH},{WINDOW_HEIGHT}",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    failures: list[str] = []
    with running_superset(paths, port) as base:
        driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        try:
            _log_in(driver, base, admin_password(paths))
            bundle = load_bundle()
            for dashboard in sorted(bundle.dashboards.values(), key=lambda d: d["slug"]):
                slug = dashboard["slug"]
                expected = len(bundle.dashboard_chart_uuids(dashboard))
                started = time.monotonic()
                _set_viewport(driver, WINDOW_HEIGHT)
                driver.get(f"{base}/superset/dashboard/{slug}/?standalone=1")

                def settled(d: webdriver.Chrome, expected: int = expected) -> bool:
                    states = d.execute_script(_CHART_STATE_JS)
                    return len(states) == expected and all(
                        not s["loading"] and (s["drawn"] or s["error"] or s["empty"])
                        for s in states
                    )

                WebDriverWait(driver, 180, poll_frequency=1).until(settled)
                # The whole dashboard in one picture: the viewport as tall as the page, then
                # every chart drawn again at its final size.
                _fit_viewport_to_page(driver, settled)
                states = driver.execute_script(_CHART_STATE_JS)
                bad = [s["name"] or "?" for s in states if s["error"] or s["empty"]]
                target = out_dir / f"{slug}.png"
                driver.save_screenshot(str(target))
                took = time.monotonic() - started
                print(
                    f"{target}  {len(states)} charts, {took:.0f} s"
                    + (f"  FAILED: {', '.join(bad)}" if bad else "")
                )
                failures += [f"{slug}: {name}" for name in bad]
        finally:
            driver.quit()
            shutil.rmtree(profile, ignore_errors=True)
    if failures:
        sys.exit("charts with an error or no data:\n  " + "\n  ".join(failures))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("import", "serve", "screenshots"))
    parser.add_argument("--port", type=int, default=8088)
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for the screenshots (default <data>/superset/screenshots)",
    )
    args = parser.parse_args(argv)
    paths = Paths.from_settings(Settings.from_env())
    if args.command == "import":
        import_dashboards(paths)
    elif args.command == "serve":
        serve(paths, args.port)
    else:
        screenshots(paths, args.port, args.out or paths.screenshots)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
