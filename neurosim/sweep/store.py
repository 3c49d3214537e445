"""The result store of a study: one SQLite database, one row per point, read as a DataFrame.

Only the coordinating process writes, each finished point in its own transaction, in WAL
mode, so a killed sweep loses nothing it had stored and a re-run skips every stored
point. A row holds the point's key (hash of its resolved config), status (done, skipped
or failed), swept values, seed, run shape (batch, prompt tokens), version, the resolved
config, every metric, the energy breakdown, the traffic and the placement as JSON, plus one
REAL column per recorded metric.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from neurosim.errors import UsageError
from neurosim.sweep.spec import KNOWN_METRICS

__all__ = ["SCHEMA_VERSION", "Store", "export_study", "load_study"]

SCHEMA_VERSION = "1"

_COLUMNS = (
    ("key", "TEXT PRIMARY KEY"),
    ("idx", "INTEGER"),
    ("status", "TEXT NOT NULL"),
    ("base_architecture", "TEXT"),
    ("base_workload", "TEXT"),
    ("architecture", "TEXT"),
    ("workload", "TEXT"),
    ("params", "TEXT NOT NULL"),
    ("seed", "INTEGER"),
    ("fidelity", "TEXT"),
    ("tokens", "INTEGER"),
    ("version", "TEXT"),
    ("error", "TEXT"),
    ("config", "TEXT"),
    ("metrics", "TEXT"),
    ("energy", "TEXT"),
    ("traffic", "TEXT"),
    ("utilization", "TEXT"),
    ("placement", "TEXT"),
    ("bottleneck", "TEXT"),
    ("result_hash", "TEXT"),
    ("wall_s", "REAL"),
    ("finished_at", "REAL"),
    ("batch", "INTEGER"),  # the run shape (added later: an older database has NULL)
    ("prompt_tokens", "INTEGER"),
)
_NAMES = tuple(name for name, _ in _COLUMNS)
_JSON = ("params", "config", "metrics", "energy", "traffic", "utilization", "placement")


class Store:
    """A study's SQLite database, opened for reading and (by the coordinator) writing."""

    def __init__(self, path: str | Path, *, create: bool = False) -> None:
        self.path = Path(path)
        self._metric_cols: list[str] | None = None
        if not create and not self.path.is_file():
            raise UsageError(f"{self.path}: no such study database")
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            if create:
                self._create()
            self._check()
        except sqlite3.DatabaseError as err:
            raise UsageError(f"{self.path}: not a neurosim study database ({err})") from None

    def _create(self) -> None:
        cols = ", ".join(f"{name} {kind}" for name, kind in _COLUMNS)
        with self._transaction():
            self.conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            self.conn.execute(f"CREATE TABLE IF NOT EXISTS points ({cols})")
            self.conn.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
            )
            have = {r[1] for r in self.conn.execute("PRAGMA table_info(points)")}
            for name, kind in _COLUMNS:  # a database from an older neurosim gains new columns
                if name not in have:
                    self.conn.execute(f"ALTER TABLE points ADD COLUMN {name} {kind}")

    def _check(self) -> None:
        tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master")}
        if not {"meta", "points"} <= tables:
            raise UsageError(f"{self.path}: not a neurosim study database (no points table)")

    def _transaction(self):
        return _Transaction(self.conn)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------------- writing

    def add_metric_columns(self, metrics: Iterable[str]) -> None:
        """Give each recorded metric a REAL column (kept when a later spec drops it)."""
        have = self.metric_columns()
        with self._transaction():
            for m in metrics:
                if m not in KNOWN_METRICS:
                    raise ValueError(f"unknown metric {m!r}")
                if m not in have:
                    self.conn.execute(f'ALTER TABLE points ADD COLUMN "{m}" REAL')
        self._metric_cols = None

    def metric_columns(self) -> list[str]:
        """The recorded-metric columns of the points table."""
        if self._metric_cols is None:
            cols = [r[1] for r in self.conn.execute("PRAGMA table_info(points)")]
            self._metric_cols = [c for c in cols if c not in _NAMES]
        return list(self._metric_cols)

    def set_meta(self, values: dict[str, Any]) -> None:
        """Store study-level facts (spec, name, version) as JSON text."""
        with self._transaction():
            self.conn.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [(k, json.dumps(v, default=str)) for k, v in values.items()],
            )

    def meta(self) -> dict[str, Any]:
        """Study-level facts."""
        out = {}
        for k, v in self.conn.execute("SELECT key, value FROM meta"):
            try:
                out[k] = json.loads(v)
            except json.JSONDecodeError:
                out[k] = v
        return out

    def put(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert (or replace) rows in one transaction."""
        if not rows:
            return
        metric_cols = self.metric_columns()
        names = [*_NAMES, *metric_cols]
        sql = (
            f"INSERT OR REPLACE INTO points ({', '.join(f'{chr(34)}{n}{chr(34)}' for n in names)})"
            f" VALUES ({', '.join('?' for _ in names)})"
        )
        records = []
        for row in rows:
            metrics = row.get("metrics") or {}
            rec = []
            for n in _NAMES:
                v = row.get(n)
                if n in _JSON and v is not None:
                    v = json.dumps(v, sort_keys=False, default=str)
                rec.append(v)
            rec += [_real(metrics.get(m)) for m in metric_cols]
            records.append(rec)
        with self._transaction():
            self.conn.executemany(sql, records)

    # ----------------------------------------------------------------------- reading

    def statuses(self) -> dict[str, str]:
        """key -> status of every stored point."""
        return dict(self.conn.execute("SELECT key, status FROM points"))

    def count(self) -> dict[str, int]:
        """Stored points per status."""
        return dict(self.conn.execute("SELECT status, COUNT(*) FROM points GROUP BY status"))

    def rows(self, where: str = "", args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Stored rows as dicts with JSON columns decoded, in study order."""
        cur = self.conn.execute(f"SELECT * FROM points {where} ORDER BY idx, key", args)
        names = [d[0] for d in cur.description]
        out = []
        for rec in cur:
            row = dict(zip(names, rec, strict=True))
            for n in _JSON:
                if row.get(n) is not None:
                    row[n] = json.loads(row[n])
            out.append(row)
        return out

    def get(self, key_prefix: str) -> dict[str, Any]:
        """The row whose key starts with `key_prefix` (which must match exactly one)."""
        prefix = key_prefix.strip().lower()
        if not prefix or any(c not in "0123456789abcdef" for c in prefix):
            raise UsageError(f"a point key is hexadecimal; got {key_prefix!r}")
        found = self.rows("WHERE key LIKE ?", (prefix + "%",))
        if not found:
            raise UsageError(f"{self.path}: no point with key {key_prefix}")
        if len(found) > 1:
            keys = ", ".join(r["key"] for r in found[:5])
            raise UsageError(f"{self.path}: key {key_prefix} is ambiguous ({keys}, ...)")
        return found[0]

    def frame(self, status: str | None = "done"):
        """The study as a pandas DataFrame (see :func:`load_study`)."""
        import pandas as pd

        rows = self.rows("WHERE status = ?", (status,)) if status else self.rows()
        axis_names: list[str] = []
        for r in rows:
            for k in r["params"]:
                if k not in axis_names:
                    axis_names.append(k)
        flat = []
        for r in rows:
            rec: dict[str, Any] = {
                "key": r["key"],
                "status": r["status"],
                "index": r["idx"],
                "base_architecture": r["base_architecture"],
                "base_workload": r["base_workload"],
                "architecture": r["architecture"],
                "workload": r["workload"],
                "seed": r["seed"],
                "fidelity": r["fidelity"],
                "tokens": r["tokens"],
                "batch": _or(r.get("batch"), 1),
                "prompt_tokens": _or(r.get("prompt_tokens"), 0),
                "version": r["version"],
                "bottleneck": r["bottleneck"],
                "error": r["error"],
            }
            for k in axis_names:
                rec[k] = r["params"].get(k)
            rec.update(r["metrics"] or {})
            rec.update({f"traffic_{k}_bytes_per_token": v for k, v in (r["traffic"] or {}).items()})
            rec.update({f"energy_{k}_j_per_token": v for k, v in (r["energy"] or {}).items()})
            rec["chips"] = (r.get("placement") or {}).get("chips")
            rec["wall_s"] = r["wall_s"]
            flat.append(rec)
        frame = pd.DataFrame.from_records(flat)
        frame.attrs["axes"] = axis_names
        return frame


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error) on an autocommit connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, *exc: object) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


def _one_type_per_column(frame):
    """Parquet needs one type per column: swept values of mixed types become text."""
    frame = frame.copy()
    from pandas.api.types import is_object_dtype

    for col in [c for c in frame.columns if is_object_dtype(frame[c])]:
        kinds = {type(v) for v in frame[col] if v is not None and v == v}
        if len(kinds) > 1:
            frame[col] = [None if v is None or v != v else str(v) for v in frame[col]]
    return frame


def _or(value: Any, default: Any) -> Any:
    """`value`, or `default` for a row stored before the column existed."""
    return default if value is None else value


def _real(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def now() -> float:
    """Seconds since the epoch (for `finished_at`)."""
    return time.time()


def load_study(path: str | Path, status: str | None = "done"):
    """A study's points as a pandas DataFrame: identifiers (the run shape's ``batch`` and
    ``prompt_tokens`` among them), one column per axis (named as in the spec; a swept
    ``run.batch`` too), every metric, ``traffic_*_bytes_per_token`` and
    ``energy_*_j_per_token`` columns (as `Result.flat()`); ``status=None`` gives every
    point, skipped and failed ones included (with their `error`)."""
    with Store(path) as store:
        return store.frame(status)


def export_study(
    path: str | Path,
    *,
    csv: str | Path | None = None,
    parquet: str | Path | None = None,
    status: str | None = "done",
) -> list[Path]:
    """Write the study table as CSV and/or Parquet (Parquet needs pyarrow)."""
    frame = load_study(path, status)
    written = []
    if csv is not None:
        Path(csv).parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(csv, index=False)
        written.append(Path(csv))
    if parquet is not None:
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise UsageError("Parquet export needs pyarrow: pip install pyarrow") from None
        Path(parquet).parent.mkdir(parents=True, exist_ok=True)
        _one_type_per_column(frame).to_parquet(parquet, index=False)
        written.append(Path(parquet))
    return written
