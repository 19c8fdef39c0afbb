"""Run a suite with Great Expectations 1.x, keep the results, build Data Docs.

Great Expectations' SQL engine does not work on DuckDB (GE issues #10738, #11579: metrics come
back empty, regex rules are refused for the dialect), so on DuckDB the suite's select is fetched
through Arrow — only the columns the rules read, in record batches — the verdict columns are
computed per batch, and GE's pandas engine validates the frame. On PostgreSQL GE's own postgres
data source runs the rules inside the database (rules needing Python verdicts are skipped there).

The GE project is a file Data Context under `<data dir>/quality/gx/`: suites are (re)written from
code on every run, validation results are stored there and rendered into the Data Docs site
`<data dir>/quality/gx/uncommitted/data_docs/local_site/index.html` (quality/data_docs.py: read
offline, each suite kept to its last runs). Analytics stay off.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import duckdb
import great_expectations as gx
import pandas as pd
from great_expectations.compatibility.pydantic import ValidationError as PydanticValidationError
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context import AbstractDataContext
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.exceptions import DataContextError

from ingest.personal_data import is_identifier_column, mask
from ingest.settings import Settings
from quality import data_docs
from quality.suites import Rule, Suite, expectation, threshold

BATCH_ROWS = 250_000
MAX_EXAMPLES = 5
# Counts only: Data Docs must not list personal values; examples are picked and masked below.
_RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0}


@dataclass
class RuleOutcome:
    rule: Rule
    severity: str
    mostly: float
    expectation_type: str
    success: bool
    element_count: int
    unexpected_count: int
    unexpected_share: float
    min_value: float | None = None
    max_value: float | None = None
    examples: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        if self.success:
            return "passed"
        return "blocked" if self.severity == "blocking" else "warn"

    @property
    def observed_share(self) -> float:
        """Share of rows that pass (what `mostly` is compared with)."""
        return round(1.0 - self.unexpected_share, 6)


@dataclass
class SuiteOutcome:
    suite: Suite
    rules: list[RuleOutcome]
    rows: int
    run_id: str
    validated_at: datetime
    engine: str
    docs_url: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def blocked(self) -> bool:
        return any(r.outcome == "blocked" for r in self.rules)


def gx_context(root: Path | None) -> AbstractDataContext:
    """The file context under `root` (its Data Docs site readable offline); an ephemeral one
    (nothing stored, no docs) for None."""
    context: AbstractDataContext
    if root is None:
        context = gx.get_context(mode="ephemeral")
    else:
        root.mkdir(parents=True, exist_ok=True)
        file_context = gx.get_context(mode="file", project_root_dir=str(root))
        data_docs.configure(file_context, Path(file_context.root_directory))
        context = file_context
    context.enable_analytics(False)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


class SuiteRunner:
    """Validates suites against one GE file context; builds Data Docs unless told not to.

    Each suite keeps the results of its last `keep_runs` runs (default: the setting
    GOGAEK_DATA_DOCS_RUNS); older ones leave the store and the site."""

    def __init__(
        self, root: Path | None, build_docs: bool = True, keep_runs: int | None = None
    ) -> None:
        self.root = root
        self.build_docs = build_docs and root is not None
        self.keep_runs = keep_runs or Settings.from_env().data_docs_runs
        self.context = gx_context(root)

    # ------------------------------------------------------------------ DuckDB (pandas engine)
    def fetch(
        self, suite: Suite, con: duckdb.DuckDBPyConnection, seconds: dict[str, float] | None = None
    ) -> pd.DataFrame:
        """The suite's select through Arrow, record batch by record batch, with its verdict
        columns added per batch (phonenumbers and friends run on one batch at a time)."""
        seconds = seconds if seconds is not None else {}
        seconds.setdefault("arrow_fetch", 0.0)
        seconds.setdefault("verdicts", 0.0)
        clock = time.perf_counter()
        reader = con.execute(suite.sql).to_arrow_reader(BATCH_ROWS)
        frames = []
        for batch in reader:
            frame = batch.to_pandas()
            now = time.perf_counter()
            seconds["arrow_fetch"] += now - clock
            frames.append(suite.prepare(frame))
            clock = time.perf_counter()
            seconds["verdicts"] += clock - now
        if not frames:  # no rows: an empty frame with the suite's columns
            frames = [suite.prepare(reader.schema.empty_table().to_pandas())]
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

    def validate_duckdb(
        self, suite: Suite, con: duckdb.DuckDBPyConnection, run_id: str
    ) -> SuiteOutcome:
        seconds: dict[str, float] = {}
        frame = self.fetch(suite, con, seconds)
        outcome = self.validate_frame(suite, frame, run_id)
        outcome.seconds = {**{k: round(v, 3) for k, v in seconds.items()}, **outcome.seconds}
        return outcome

    def validate_frame(self, suite: Suite, frame: pd.DataFrame, run_id: str) -> SuiteOutcome:
        source = self.context.data_sources.add_or_update_pandas("warehouse_frames")
        asset = next(
            (a for a in source.assets if a.name == suite.name), None
        ) or source.add_dataframe_asset(suite.name)
        batch_definition = next(
            (b for b in asset.batch_definitions if b.name == "whole"), None
        ) or asset.add_batch_definition_whole_dataframe("whole")
        outcome = self._run(
            suite, suite.rules, batch_definition, {"dataframe": frame}, run_id, "pandas"
        )
        for rule_outcome in outcome.rules:
            if not rule_outcome.success or rule_outcome.unexpected_count:
                rule_outcome.examples = failing_examples(rule_outcome, frame)
        return outcome

    # ------------------------------------------------------------------ PostgreSQL (in database)
    def validate_postgres(self, suite: Suite, connection_string: str, run_id: str) -> SuiteOutcome:
        source = self.context.data_sources.add_or_update_postgres(
            "warehouse_postgres", connection_string=connection_string
        )
        asset = next(
            (a for a in source.assets if a.name == suite.name), None
        ) or source.add_query_asset(suite.name, query=suite.sql)
        batch_definition = next(
            (b for b in asset.batch_definitions if b.name == "whole"), None
        ) or asset.add_batch_definition_whole_table("whole")
        rules = tuple(r for r in suite.rules if not r.python)
        return self._run(suite, rules, batch_definition, None, run_id, "postgres")

    # ------------------------------------------------------------------ shared
    @staticmethod
    def _drop_unreadable(store: Any, name: str) -> None:
        key = store.get_key(name=name, id=None)
        if not store.has_key(key=key):
            return
        try:
            store.get(key=key)
        except (PydanticValidationError, DataContextError):
            store.remove_key(key=key)

    def _run(
        self,
        suite: Suite,
        rules: tuple[Rule, ...],
        batch_definition: Any,
        batch_parameters: dict[str, Any] | None,
        run_id: str,
        engine: str,
    ) -> SuiteOutcome:
        started = time.perf_counter()
        gx_suite = self.context.suites.add_or_update(
            gx.ExpectationSuite(
                name=suite.name,
                expectations=[expectation(suite, r) for r in rules],
                meta={"guards": suite.table, "description": suite.description},
            )
        )
        # A definition stored by an earlier run can name an asset that is gone: GE's data
        # sources are rewritten whole by each suite's step (running side by side), and a
        # DuckDB run's pandas asset is never made on PostgreSQL. GE then cannot even read the
        # definition to replace it; it is dropped and written again, as is its checkpoint.
        self._drop_unreadable(self.context.validation_definition_store, suite.name)
        self._drop_unreadable(self.context.checkpoint_store, suite.name)
        definition = self.context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=suite.name, data=batch_definition, suite=gx_suite)
        )
        checkpoint = self.context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=suite.name,
                validation_definitions=[definition],
                actions=[],
                result_format=_RESULT_FORMAT,
            )
        )
        validated_at = datetime.now(UTC)
        result = checkpoint.run(
            batch_parameters=batch_parameters,
            run_id=RunIdentifier(run_name=run_id, run_time=validated_at),
        )
        finished = time.perf_counter()
        ((identifier, validation),) = result.run_results.items()
        by_rule = {
            config.meta["rule"]: (config, r)
            for r in validation.results
            if (config := r.expectation_config) is not None  # always set in a checkpoint's run
        }
        outcomes = []
        for rule in rules:
            config, found = by_rule[rule.name]
            stats = found.result or {}
            limit = threshold(suite, rule)
            if found.exception_info and found.exception_info.get("raised_exception"):
                raise RuntimeError(
                    f"suite {suite.name}, rule {rule.name}: GE raised "
                    f"{found.exception_info.get('exception_message')}"
                )
            count = int(stats.get("element_count") or 0)
            unexpected = int(stats.get("unexpected_count") or 0)
            share = float(stats.get("unexpected_percent") or 0.0) / 100.0
            outcomes.append(
                RuleOutcome(
                    rule=rule,
                    severity=limit.severity,
                    mostly=limit.mostly,
                    expectation_type=config.type,
                    success=bool(found.success),
                    element_count=count,
                    unexpected_count=unexpected,
                    unexpected_share=share,
                    min_value=limit.min_value,
                    max_value=limit.max_value,
                )
            )
        docs_url = None
        project_dir = self.context.root_directory  # a file context's: None without a root
        if project_dir is not None:
            data_docs.prune(self.context, Path(project_dir), suite.name, self.keep_runs)
        if self.build_docs:
            # This validation's page and the site index (the whole site is not re-rendered).
            self.context.build_data_docs(resource_identifiers=[identifier])
            urls = self.context.get_docs_sites_urls(resource_identifier=identifier)
            docs_url = urls[0]["site_url"] if urls else None
        rows = max((o.element_count for o in outcomes), default=0)
        return SuiteOutcome(
            suite=suite,
            rules=outcomes,
            rows=rows,
            run_id=run_id,
            validated_at=validated_at,
            engine=engine,
            docs_url=docs_url,
            seconds={
                "ge_validate": round(finished - started, 3),
                "data_docs": round(time.perf_counter() - finished, 3),
            },
        )

    @property
    def docs_index(self) -> Path:
        assert self.root is not None
        return self.root / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def failing_examples(outcome: RuleOutcome, frame: pd.DataFrame) -> list[str]:
    """Up to five failing values (with the verdict when it differs), masked when they are
    contact data."""
    rule = outcome.rule
    column = frame[rule.column]
    match rule.kind:
        case "not_null":
            return [f"{int(column.isna().sum())} rows without a value"]
        case "unique":
            bad = column[column.duplicated(keep=False) & column.notna()]
        case "in_set":
            bad = column[column.notna() & ~column.isin(list(rule.values))]
        case "not_in_set":
            bad = column[column.isin(list(rule.values))]
        case "between":
            low = outcome.min_value if outcome.min_value is not None else float("-inf")
            high = outcome.max_value if outcome.max_value is not None else float("inf")
            bad = column[(column < low) | (column > high)]
        case "regex":
            bad = column[column.notna() & ~column.astype(str).str.match(rule.regex)]
        case _:
            return []
    picked = bad.index[:MAX_EXAMPLES]
    example_column = rule.example_column or rule.column
    shown = frame.loc[picked, example_column].tolist()
    reasons = bad.loc[picked].tolist()
    out = []
    for value, reason in zip(shown, reasons, strict=True):
        text = (
            mask(value)
            if is_identifier_column(example_column) and value is not None
            else str(value)
        )
        out.append(text if example_column == rule.column else f"{text} ({reason})")
    return out
