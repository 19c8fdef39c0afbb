"""The dbt project as Dagster sees it: one DbtProject for the assets, the CLI and the tests.

The manifest the dbt assets are built from is prepared before the definitions load:
`dagster dev` does it itself (prepare_if_dev), `make manifest` does it for `make demo`, `make ui`
and `make test` (`dagster-dbt project prepare-and-package --file orchestration/dbt_project.py`),
and the test suite does it once per session; a deployment ships it prepared.
"""

import sys
from pathlib import Path

from dagster_dbt import DbtProject

from ingest.settings import DBT_PROJECT_DIR, Settings

dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    target=Settings.from_env().dbt_target,
)
dbt_project.prepare_if_dev()

# The dbt next to this interpreter: .venv/bin need not be on PATH.
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")
