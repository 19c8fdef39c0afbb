"""The Data Docs site, readable offline and kept to the last runs.

Great Expectations' page templates load Bootstrap, jQuery, Font Awesome and the bootstrap-table
script from CDNs: offline the index renders unstyled with an empty list. The site here uses GE's
own extension point (the `view` of each site section and of the index builder, set in the site
config) with views that read the templates in `quality/data_docs_templates/` before GE's: the
same pages, but stylesheets and scripts come from the site's `static/vendor/` folder, copied
from the pip-installed XStatic packages, and the index table is written into the page (no
script needed to list the validations).

Pruning: each suite keeps the validations of its last `keep` runs (GOGAEK_DATA_DOCS_RUNS, see
ingest/settings.py); older results leave the GE store and their pages leave the site.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import xstatic.pkg.bootstrap
import xstatic.pkg.font_awesome
import xstatic.pkg.jquery
from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from jinja2 import ChoiceLoader, FileSystemLoader

SITE_NAME = "local_site"
SITE_DIR = Path("uncommitted") / "data_docs" / SITE_NAME  # inside the GE project folder
TEMPLATES_DIR = Path(__file__).with_name("data_docs_templates")

# static/vendor/<target> ← <XStatic package data folder>/<source>: what the templates load.
VENDOR_FILES: dict[str, tuple[str, str]] = {
    "bootstrap/css/bootstrap.min.css": (xstatic.pkg.bootstrap.BASE_DIR, "css/bootstrap.min.css"),
    "bootstrap/js/bootstrap.bundle.min.js": (
        xstatic.pkg.bootstrap.BASE_DIR,
        "js/bootstrap.bundle.min.js",
    ),
    "jquery/jquery.min.js": (xstatic.pkg.jquery.BASE_DIR, "jquery.min.js"),
    "font-awesome/css/all.min.css": (xstatic.pkg.font_awesome.BASE_DIR, "css/all.min.css"),
}
# Font Awesome's stylesheet reads its fonts from ../webfonts/.
VENDOR_FOLDERS: dict[str, tuple[str, str]] = {
    "font-awesome/webfonts": (xstatic.pkg.font_awesome.BASE_DIR, "webfonts"),
}


def _with_local_templates(view: Any) -> None:
    view.env.loader = ChoiceLoader([FileSystemLoader(str(TEMPLATES_DIR)), view.env.loader])


class OfflinePageView(DefaultJinjaPageView):
    """GE's page view, with the templates of quality/data_docs_templates/ first."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _with_local_templates(self)


class OfflineIndexPageView(DefaultJinjaIndexPageView):
    """GE's index view, with the templates of quality/data_docs_templates/ first."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _with_local_templates(self)


def _view(class_name: str) -> dict[str, str]:
    return {"module_name": __name__, "class_name": class_name}


def site_config() -> dict[str, Any]:
    """The `local_site` config: GE's defaults with the offline views."""
    return {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": f"{SITE_DIR.as_posix()}/",
        },
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "view": _view("OfflineIndexPageView"),
        },
        "site_section_builders": {
            section: {"view": _view("OfflinePageView")}
            for section in ("expectations", "validations", "profiling")
        },
    }


def configure(context: Any, project_dir: Path) -> None:
    """Point the file context's site at the offline views and copy the vendored assets."""
    wanted = site_config()
    sites = context.list_data_docs_sites()
    if SITE_NAME not in sites:
        context.add_data_docs_site(SITE_NAME, wanted)
    elif dict(sites[SITE_NAME]) != wanted:
        context.update_data_docs_site(SITE_NAME, wanted)
    copy_vendor(project_dir / SITE_DIR / "static" / "vendor")


def copy_vendor(target: Path) -> None:
    """The stylesheets, scripts and fonts the templates load, into the site (once)."""
    for name, (base, source) in VENDOR_FILES.items():
        destination = target / name
        origin = Path(base) / source
        if not destination.exists() or destination.stat().st_size != origin.stat().st_size:
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(origin, destination)
    for name, (base, source) in VENDOR_FOLDERS.items():
        shutil.copytree(Path(base) / source, target / name, dirs_exist_ok=True)


def prune(context: Any, project_dir: Path, suite_name: str, keep: int) -> int:
    """Drop the results and pages of `suite_name` older than its last `keep` runs; how many
    validations were dropped."""
    store = context.validation_results_store
    by_run: dict[str, list[Any]] = defaultdict(list)
    latest: dict[str, Any] = {}
    for key in store.list_keys():
        if key.expectation_suite_identifier.name != suite_name:
            continue
        run_name = key.run_id.run_name or ""
        by_run[run_name].append(key)
        if run_name not in latest or key.run_id.run_time > latest[run_name]:
            latest[run_name] = key.run_id.run_time
    newest_first = sorted(latest, key=lambda run: (latest[run], run), reverse=True)
    pages = project_dir / SITE_DIR / "validations"
    dropped = 0
    for run_name in newest_first[max(keep, 1) :]:
        for key in by_run[run_name]:
            store.remove_key(key)
            pages.joinpath(*key.to_tuple()).with_suffix(".html").unlink(missing_ok=True)
            dropped += 1
    if dropped:
        for root in (pages, project_dir / "uncommitted" / "validations"):
            _remove_empty_folders(root.joinpath(*suite_name.split(".")))
    return dropped


def _remove_empty_folders(top: Path) -> None:
    """Remove the empty folders under `top` (deepest first), and `top` when it ends empty."""
    if not top.is_dir():
        return
    for folder in sorted((p for p in top.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    if not any(top.iterdir()):
        top.rmdir()
