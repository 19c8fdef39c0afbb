"""Measure the project's commands on this checkout and rewrite docs/benchmarks.md.

    python -m lab.benchmarks                     # make demo, test-fast, identity-eval, contact-eval
    python -m lab.benchmarks --with-full-tests   # and make test
    python -m lab.benchmarks --only identity-eval --only contact-eval

Each measure runs as a subprocess in the project folder. The row it writes holds the wall time,
the CPU time of the whole process tree (user + system, from resource.getrusage(RUSAGE_CHILDREN)
around the one command), the exit code, a machine-speed probe taken just before it, the time and
the commit. Only the table between the markers is rewritten; a measure not run this time keeps
its row, and the text outside the markers is left as it is.
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "benchmarks.md"
START = "<!-- benchmarks:start (written by `make benchmarks`; edit outside the markers) -->"
END = "<!-- benchmarks:end -->"
PROBE_STATEMENT = "sum(range(20_000_000))"
PROBE_COMMAND = (sys.executable, "-m", "timeit", "-n1", "-r3", PROBE_STATEMENT)
HEADER = (
    "| measure | wall | CPU (process tree) | exit | probe | setup | measured (UTC) | commit |",
    "|---|---|---|---|---|---|---|---|",
)


@dataclass(frozen=True)
class Measure:
    """One command to time: its name in the table and the argv that runs it."""

    name: str
    command: tuple[str, ...]


def make(target: str) -> Measure:
    return Measure(f"make {target}", ("make", target))


DEFAULT_MEASURES = (make("demo"), make("test-fast"), make("identity-eval"), make("contact-eval"))
FULL_TESTS = make("test")
DASHBOARDS = make("dashboard-screenshots")
ORDER = [m.name for m in (*DEFAULT_MEASURES, FULL_TESTS, DASHBOARDS)]


@dataclass(frozen=True)
class Row:
    """One line of the table, as written and as read back."""

    measure: str
    wall: str
    cpu: str
    exit: str
    probe: str
    setup: str
    measured: str
    commit: str

    def render(self) -> str:
        cells = (
            f"`{self.measure}`",
            self.wall,
            self.cpu,
            self.exit,
            self.probe,
            self.setup,
            self.measured,
            self.commit,
        )
        return "| " + " | ".join(cells) + " |"

    @classmethod
    def parse(cls, line: str) -> Row:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != len(HEADER[1].strip("|").split("|")):
            raise ValueError(f"not a row of the benchmarks table: {line!r}")
        measure, wall, cpu, exit_code, probe, setup, measured, commit = cells
        return cls(measure.strip("`"), wall, cpu, exit_code, probe, setup, measured, commit)


def duration(seconds: float) -> str:
    """`7.5 s` under a minute, else `m:ss` (or `h:mm:ss`)."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def probe_ms(command: Sequence[str] = PROBE_COMMAND) -> str:
    """timeit's best of three, in milliseconds (`379 ms`); `?` when it cannot be read."""
    out = subprocess.run(list(command), capture_output=True, text=True, check=False).stdout
    found = re.search(r"best of \d+: ([\d.]+) (nsec|usec|msec|sec) per loop", out)
    if not found:
        return "?"
    scale = {"nsec": 1e-6, "usec": 1e-3, "msec": 1.0, "sec": 1000.0}[found.group(2)]
    return f"{float(found.group(1)) * scale:.0f} ms"


def current_commit(cwd: Path) -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=cwd, capture_output=True, text=True
        )
    except OSError:
        return "?"
    return out.stdout.strip() or "?"


def run_measure(measure: Measure, cwd: Path, probe_command: Sequence[str] = PROBE_COMMAND) -> Row:
    """Run one measure after a probe; its output goes to the terminal as it comes."""
    probe = probe_ms(probe_command)
    setup = "deps installed" if (cwd / ".venv" / "bin" / "python").exists() else "creates .venv"
    print(f"== {measure.name} (probe {probe}, {setup})", flush=True)
    cpu_before = children_cpu_seconds()
    started = time.monotonic()
    code = subprocess.run(list(measure.command), cwd=cwd, check=False).returncode
    wall = time.monotonic() - started
    cpu = children_cpu_seconds() - cpu_before
    print(f"== {measure.name}: exit {code}, {duration(wall)} wall, {duration(cpu)} CPU", flush=True)
    return Row(
        measure=measure.name,
        wall=duration(wall),
        cpu=duration(cpu),
        exit=str(code),
        probe=probe,
        setup=setup,
        measured=datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        commit=current_commit(cwd),
    )


def split_page(text: str) -> tuple[str, str, str]:
    """The text before the start marker, the block between the markers, the text after."""
    if text.count(START) != 1 or text.count(END) != 1 or text.index(START) > text.index(END):
        raise ValueError(f"the page needs exactly one {START!r} followed by one {END!r}")
    before, rest = text.split(START)
    block, after = rest.split(END)
    return before, block, after


def read_rows(block: str) -> list[Row]:
    lines = [line for line in block.splitlines() if line.startswith("|")]
    return [Row.parse(line) for line in lines if line not in HEADER]


def merge(old: Sequence[Row], new: Sequence[Row]) -> list[Row]:
    """New rows replace old ones of the same measure; rows in the usual order, others after."""
    by_name = {row.measure: row for row in old}
    by_name.update({row.measure: row for row in new})
    known = [by_name.pop(name) for name in ORDER if name in by_name]
    return known + list(by_name.values())


def render_block(rows: Sequence[Row]) -> str:
    return "\n".join(["", *HEADER, *(row.render() for row in rows), ""])


def rewrite_page(page: Path, new_rows: Sequence[Row]) -> None:
    before, block, after = split_page(page.read_text(encoding="utf-8"))
    rows = merge(read_rows(block), new_rows)
    page.write_text(before + START + render_block(rows) + END + after, encoding="utf-8")


def measure_and_write(
    page: Path,
    measures: Sequence[Measure],
    cwd: Path = ROOT,
    probe_command: Sequence[str] = PROBE_COMMAND,
) -> list[Row]:
    """Run every measure in turn (a failing one is recorded, not fatal), then rewrite the page."""
    split_page(page.read_text(encoding="utf-8"))  # refuse a page without markers before measuring
    rows = [run_measure(measure, cwd, probe_command) for measure in measures]
    rewrite_page(page, rows)
    return rows


def choose(only: Sequence[str], with_full_tests: bool, with_dashboards: bool) -> list[Measure]:
    every = {m.name: m for m in (*DEFAULT_MEASURES, FULL_TESTS, DASHBOARDS)}
    if only:
        names = [name if name.startswith("make ") else f"make {name}" for name in only]
        unknown = [name for name in names if name not in every]
        if unknown:
            raise SystemExit(f"unknown measure {unknown[0]!r}; known: {', '.join(every)}")
        return [every[name] for name in names]
    chosen = list(DEFAULT_MEASURES)
    if with_full_tests:
        chosen.append(FULL_TESTS)
    if with_dashboards:
        chosen.append(DASHBOARDS)
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TARGET",
        help="measure only this make target (repeatable), e.g. identity-eval",
    )
    parser.add_argument(
        "--with-full-tests", action="store_true", help="also measure `make test` (many minutes)"
    )
    parser.add_argument(
        "--with-dashboards",
        action="store_true",
        help="also measure `make dashboard-screenshots` (needs Chromium)",
    )
    parser.add_argument("--page", type=Path, default=PAGE, help="the page to rewrite")
    args = parser.parse_args(argv)
    rows = measure_and_write(
        args.page, choose(args.only, args.with_full_tests, args.with_dashboards)
    )
    print(f"rewrote {args.page}")
    return 0 if all(row.exit == "0" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
