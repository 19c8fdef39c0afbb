"""The answer key under truth/: who is who, which contacts are bad, which lines are broken."""

from __future__ import annotations

import csv
import json
from collections import Counter
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np

from .contacts import status_and_defect

IDENTITY_COLUMNS = ("source", "source_key", "person_id")
CONTACT_COLUMNS = ("source", "source_key", "field", "value", "status", "defect")
MALFORMED_COLUMNS = ("file", "line", "kind")


class Truth:
    def __init__(self, truth_dir: Path) -> None:
        truth_dir.mkdir(parents=True, exist_ok=True)
        self.dir = truth_dir
        self._identity_fh = (truth_dir / "identity.csv").open("w", encoding="utf-8", newline="")
        self._contacts_fh = (truth_dir / "contacts.csv").open("w", encoding="utf-8", newline="")
        self._identity = csv.writer(self._identity_fh, lineterminator="\n")
        self._contacts = csv.writer(self._contacts_fh, lineterminator="\n")
        self._identity.writerow(IDENTITY_COLUMNS)
        self._contacts.writerow(CONTACT_COLUMNS)
        self.rows: dict[str, int] = {}
        self.bad: list[tuple[str, str, str]] = []
        self.extra: dict[str, Any] = {}
        self._n_identity = 0
        self._n_contacts = 0

    def count(self, name: str, rows: int) -> None:
        self.rows[name] = self.rows.get(name, 0) + rows

    def malformed(self, file: str, line: int | str, kind: str) -> None:
        self.bad.append((file, str(line), kind))

    def identity(self, source: str, keys: list[str], person_ids: list[str]) -> None:
        self._identity.writerows(zip(repeat(source), keys, person_ids, strict=False))
        self._n_identity += len(keys)

    def contacts(
        self, source: str, keys: list[str], field: str, values: np.ndarray, codes: np.ndarray
    ) -> None:
        status, defect = status_and_defect(codes)
        self._contacts.writerows(
            zip(
                repeat(source),
                keys,
                repeat(field),
                values.tolist(),
                status.tolist(),
                defect.tolist(),
                strict=False,
            )
        )
        self._n_contacts += len(keys)

    def malformed_counts(self) -> dict[str, int]:
        counts = Counter(kind for _, _, kind in self.bad)
        return dict(sorted(counts.items()))

    def close(self, manifest: dict[str, Any]) -> dict[str, Any]:
        self._identity_fh.close()
        self._contacts_fh.close()
        with (self.dir / "malformed.csv").open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(MALFORMED_COLUMNS)
            writer.writerows(self.bad)
        self.rows["truth/identity.csv"] = self._n_identity
        self.rows["truth/contacts.csv"] = self._n_contacts
        self.rows["truth/malformed.csv"] = len(self.bad)
        manifest = {
            **manifest,
            "rows": dict(sorted(self.rows.items())),
            "malformed": self.malformed_counts(),
            **self.extra,
        }
        text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
        (self.dir / "manifest.json").write_text(text, encoding="utf-8")
        return manifest
