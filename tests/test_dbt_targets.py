"""Each dbt invocation starts from the last parse made with the same vars; folders are pruned."""

from __future__ import annotations

import os
from pathlib import Path

from orchestration.dbt_targets import PARTIAL_PARSE, invocation_target, parse_key, prune


def test_an_invocation_starts_from_the_last_parse_with_the_same_vars(tmp_path: Path) -> None:
    with invocation_target(tmp_path, "dbt_staging", '{"a": 1}', "duckdb") as first:
        assert not (first / PARTIAL_PARSE).exists()  # nothing yet: dbt parses everything
        (first / PARTIAL_PARSE).write_bytes(b"parse 1")
    with invocation_target(tmp_path, "dbt_marts", '{"a": 1}', "duckdb") as second:
        assert second != first
        assert (second / PARTIAL_PARSE).read_bytes() == b"parse 1"
        (second / PARTIAL_PARSE).write_bytes(b"parse 2")
    with invocation_target(tmp_path, "dbt_marts", '{"a": 1}', "duckdb") as third:
        assert (third / PARTIAL_PARSE).read_bytes() == b"parse 2"
    # Other vars or another target: another parse (dbt would throw this one away).
    with invocation_target(tmp_path, "dbt_marts", '{"a": 2}', "duckdb") as other:
        assert not (other / PARTIAL_PARSE).exists()
    with invocation_target(tmp_path, "dbt_marts", '{"a": 1}', "postgres") as other:
        assert not (other / PARTIAL_PARSE).exists()
    assert parse_key('{"a": 1}', "duckdb") != parse_key('{"a": 1}', "postgres")
    assert not list((tmp_path / "parse").rglob(".partial_parse*"))  # no staged copy left


def test_a_failed_invocation_still_hands_on_what_it_parsed(tmp_path: Path) -> None:
    try:
        with invocation_target(tmp_path, "dbt_marts", "{}", "duckdb") as folder:
            (folder / PARTIAL_PARSE).write_bytes(b"parsed, then a test failed")
            raise RuntimeError("dbt build failed")
    except RuntimeError:
        pass
    with invocation_target(tmp_path, "dbt_marts", "{}", "duckdb") as folder:
        assert (folder / PARTIAL_PARSE).read_bytes() == b"parsed, then a test failed"


def test_only_the_newest_folders_are_kept(tmp_path: Path) -> None:
    for age, name in enumerate(["e", "d", "c", "b", "a"]):
        folder = tmp_path / name
        folder.mkdir()
        os.utime(folder, (1_000_000 - age, 1_000_000 - age))
    removed = prune(tmp_path, keep=2)
    assert sorted(p.name for p in removed) == ["a", "b", "c"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "e"]
    assert prune(tmp_path / "missing", keep=2) == []
