"""Capture every output of the ``ceasefire`` CLI (run, analyze, sweep, plot) for the bundled scenarios and
experiments into a folder, and compare two such folders file by file (exit 1 on any difference), so a
refactor can be checked to leave every result byte-identical. Details: ``--help`` or DETAILS below.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

CLI = "import sys; from sim.cli import main; sys.exit(main())"
METADATA = "_capture.json"
REMOVED_ENV = ("CEASEFIRE_SCENARIOS", "DASK_SCHEDULER_ADDRESS")
DETAILS = """\
Usage, from the repository root (the cwd decides which ``scenarios/`` and ``experiments/`` are used)::

    PYTHONPATH=$PWD python benchmarks/compare_outputs.py capture OUTDIR [--python PY]
    python benchmarks/compare_outputs.py compare REFERENCE CANDIDATE

``capture`` runs the CLI as ``PY -c "import sys; from sim.cli import main; sys.exit(main())" ARGS...`` in
subprocesses, so ``--python`` (default: this interpreter) and ``$PYTHONPATH`` decide which ``sim`` is imported
(recorded in ``OUTDIR/_capture.json``). ``$CEASEFIRE_SCENARIOS`` and ``$DASK_SCHEDULER_ADDRESS`` are removed
from the children's environment: they would change which scenarios are found and where sweeps run. OUTDIR must
be new or empty. Layout::

    run/NAME.json                    stdout of `run NAME --json`
    run/NAME.stdout.txt, run/NAME/   stdout and files of `run NAME --out run/NAME --full-trace`
    analyze/NAME.json                stdout of `analyze NAME --json`
    analyze/NAME.simulate.json       stdout of `analyze NAME --simulate --json`
    analyze/NAME.simulate.stdout.txt, analyze/NAME/   stdout and files of `analyze NAME --simulate --out analyze/NAME`
    sweep/STEM.stdout.txt, sweep/STEM/                `sweep experiments/STEM.yaml --out sweep/STEM --workers 1`
    plot/STEM.stdout.txt, plot/STEM/                  `plot sweep/STEM --out plot/STEM`
    sensitivity/STEM.stdout.txt, sensitivity/STEM/    `sweep analyze sweep/STEM --method M` (Sobol'/Morris designs only)
    frames/STEM.results.pkl, frames/STEM.runs.pkl     pickled sim.sweep.load_results(dir) / load_runs(dir)
    _capture.json                    how the capture was made (paths, versions, timings): read by compare, not compared

The largest experiment, ``weight_uncertainty`` (Sobol', 640 points x 200 replicas = 128,000 runs), is the
longest sweep (about 5 s on one core). A whole capture (51 subprocesses, 174 files) took 80-120 s on 2 cores,
mostly interpreter start-up and imports.

``compare`` walks both trees and prints one line per file (``PATH: same`` or ``PATH: DIFFERS: reason``), then
``N files compared, M differ``; it exits 1 if any file is missing on one side or differs. Every file is
compared byte for byte (PNG, Parquet, CSV, JSON, ...) except these, where only the named fields are normalised:

* ``sweep/*/manifest.json``: ``experiment.file`` and ``scenario.file`` are absolute paths of the checkout
  (``str(path.resolve())``): the checkout root recorded in ``_capture.json`` is replaced by ``<ROOT>``. The
  file must still be in the manifest's own canonical form (``json.dumps(indent=2, sort_keys=True)`` plus a
  newline); if not, it is compared raw.
* ``*.stdout.txt``: the capture's absolute OUTDIR (printed by ``--out`` commands) becomes ``<OUT>``; the
  wall-clock seconds of ``(N negotiations in X s)`` (``run``) and the seconds and rate of ``this time: N runs in
  X s (R runs/s)`` (``sweep``) become ``<SECONDS>``/``<RATE>``. Nothing else in the text is touched.
* ``frames/*.pkl``: DataFrames compared with ``pandas.testing.assert_frame_equal(check_exact=True)`` plus exact
  column order and dtypes, and ``attrs`` (the sweep manifest, normalised as above, parameter names, completeness).

Stderr is not captured (the sweep's progress lines carry rates and depend on timing); every command must exit 0.
"""

MANIFEST_PATH_FIELDS = (("experiment", "file"), ("scenario", "file"))
RUN_SECONDS = re.compile(r"^\((\d+) negotiations in [0-9.]+ s\)$", re.MULTILINE)
SWEEP_SECONDS = re.compile(r"^this time: ([0-9,]+) runs in [0-9.]+ s \([0-9,.]+ runs/s\)$", re.MULTILINE)

SAVE_FRAMES = """
import pickle, sys
from sim.sweep import load_results, load_runs
for load, path in ((load_results, sys.argv[2]), (load_runs, sys.argv[3])):
    with open(path, "wb") as handle:
        pickle.dump(load(sys.argv[1]), handle, protocol=5)
"""

PROBE = """
import json, sys
import matplotlib, numpy, pandas, pyarrow, sim
print(json.dumps({"sim": sim.__file__, "sim_version": sim.__version__, "python": sys.version, "numpy": numpy.__version__,
                  "pandas": pandas.__version__, "pyarrow": pyarrow.__version__, "matplotlib": matplotlib.__version__}))
"""


# ---------------------------------------------------------------------------- capture


class Capture:
    """Runs the commands of one capture and keeps a log of them."""

    def __init__(self, python: str, root: Path, out: Path) -> None:
        self.python, self.root, self.out = python, root, out
        self.env = {k: v for k, v in os.environ.items() if k not in REMOVED_ENV}
        self.log: list[dict[str, Any]] = []

    def python_code(self, code: str, args: Sequence[str], stdout: Path | None = None) -> str:
        """Run ``PY -c code args`` from the root; save its stdout to ``stdout`` if given; fail loudly on exit != 0."""
        started = time.perf_counter()
        done = subprocess.run([self.python, "-c", code, *args], cwd=self.root, env=self.env, capture_output=True, check=False)
        seconds = time.perf_counter() - started
        shown = " ".join(args) if code == CLI else f"<python -c> {' '.join(args)}"
        self.log.append({"args": list(args), "code": "cli" if code == CLI else code, "exit": done.returncode, "seconds": seconds})
        print(f"{seconds:6.1f} s  {shown}", flush=True)
        if done.returncode != 0:
            sys.stderr.write(done.stderr.decode(errors="replace"))
            raise SystemExit(f"capture: exit {done.returncode} from {shown}")
        if stdout is not None:
            stdout.parent.mkdir(parents=True, exist_ok=True)
            stdout.write_bytes(done.stdout)
        return done.stdout.decode()

    def cli(self, *args: str, stdout: Path | None = None) -> None:
        """Run the ``ceasefire`` CLI with ``args``."""
        self.python_code(CLI, args, stdout)


def capture(out: Path, python: str) -> int:
    """Run every bundled scenario and experiment through the CLI into ``out``."""
    root = Path.cwd().resolve()
    out = out.resolve()
    scenarios = sorted((root / "scenarios").glob("*.yaml"))
    experiments = sorted((root / "experiments").glob("*.yaml"))
    if not scenarios or not experiments:
        raise SystemExit(f"capture: run from the repository root (no scenarios/*.yaml or experiments/*.yaml in {root})")
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"capture: {out} is not empty (sweep folders must be new)")
    out.mkdir(parents=True, exist_ok=True)
    job = Capture(python, root, out)
    started, date = time.perf_counter(), time.strftime("%Y-%m-%dT%H:%M:%S%z")
    probe = json.loads(job.python_code(PROBE, []))
    print(f"sim imported from {probe['sim']}", flush=True)

    for path in scenarios:
        name = path.stem
        job.cli("run", name, "--json", stdout=out / "run" / f"{name}.json")
        job.cli("run", name, "--out", str(out / "run" / name), "--full-trace", stdout=out / "run" / f"{name}.stdout.txt")
        job.cli("analyze", name, "--json", stdout=out / "analyze" / f"{name}.json")
        simulate = out / "analyze" / f"{name}.simulate.stdout.txt"
        job.cli("analyze", name, "--simulate", "--out", str(out / "analyze" / name), stdout=simulate)
        job.cli("analyze", name, "--simulate", "--json", stdout=out / "analyze" / f"{name}.simulate.json")

    for path in experiments:
        stem = path.stem
        sweep = out / "sweep" / stem
        experiment = str(path.relative_to(root))
        job.cli("sweep", experiment, "--out", str(sweep), "--workers", "1", stdout=out / "sweep" / f"{stem}.stdout.txt")
        job.cli("plot", str(sweep), "--out", str(out / "plot" / stem), stdout=out / "plot" / f"{stem}.stdout.txt")
        method = json.loads((sweep / "manifest.json").read_text(encoding="utf-8"))["design"]["method"]
        if method in ("sobol", "morris"):
            sensitivity, printed = out / "sensitivity" / stem, out / "sensitivity" / f"{stem}.stdout.txt"
            job.cli("sweep", "analyze", str(sweep), "--method", method, "--out", str(sensitivity), stdout=printed)
        (out / "frames").mkdir(exist_ok=True)
        frames = [str(out / "frames" / f"{stem}.{kind}.pkl") for kind in ("results", "runs")]
        job.python_code(SAVE_FRAMES, [str(sweep), *frames])

    seconds = time.perf_counter() - started
    files = sum(1 for p in out.rglob("*") if p.is_file())
    metadata = {
        "root": str(root),
        "out": str(out),
        "python": python,
        "pythonpath": os.environ.get("PYTHONPATH"),
        "removed_env": [k for k in REMOVED_ENV if k in os.environ],
        "imported": probe,
        "started": date,
        "seconds": round(seconds, 1),
        "files": files,
        "commands": job.log,
    }
    (out / METADATA).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    print(f"captured {files} files into {out} in {seconds:.0f} s (sim from {probe['sim']})")
    return 0


# ---------------------------------------------------------------------------- compare


class Tree:
    """One capture folder and the paths recorded for it (to normalise the fields documented above)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        meta_file = path / METADATA
        self.meta: dict[str, Any] = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.is_file() else {}
        self.root: str | None = self.meta.get("root")
        self.out: str | None = self.meta.get("out")

    def files(self) -> set[str]:
        """Every file under the tree, as POSIX paths relative to it (hidden files included),
        but a sweep folder's ``.lock`` (it holds the process id of the sweep that ran)."""
        return {
            p.relative_to(self.path).as_posix()
            for p in self.path.rglob("*")
            if (p.is_file() or p.is_symlink()) and p.name != ".lock"
        }

    def manifest(self, data: dict[str, Any]) -> dict[str, Any]:
        """A sweep manifest with the checkout root in its absolute path fields replaced by ``<ROOT>``."""
        data = json.loads(json.dumps(data))  # a copy
        for section, field in MANIFEST_PATH_FIELDS:
            value = data.get(section, {}).get(field)
            if isinstance(value, str) and self.root and value.startswith(self.root.rstrip("/") + "/"):
                data[section][field] = "<ROOT>" + value[len(self.root.rstrip("/")) :]
        return data

    def manifest_bytes(self, raw: bytes) -> bytes:
        """Normalised bytes of a manifest.json, or the raw bytes if it is not in canonical form."""
        try:
            data = json.loads(raw)
        except ValueError:
            return raw
        if canonical(data) != raw:
            return raw
        return canonical(self.manifest(data))

    def stdout_bytes(self, raw: bytes) -> bytes:
        """Normalised captured stdout: OUTDIR, run seconds and sweep seconds/rate replaced."""
        text = raw.decode("utf-8", errors="surrogateescape")
        if self.out:
            text = text.replace(self.out, "<OUT>")
        text = RUN_SECONDS.sub(r"(\1 negotiations in <SECONDS> s)", text)
        text = SWEEP_SECONDS.sub(r"this time: \1 runs in <SECONDS> s (<RATE> runs/s)", text)
        return text.encode("utf-8", errors="surrogateescape")


def canonical(data: Any) -> bytes:
    """JSON as the sweep manifest is written."""
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()


def first_json_difference(a: Any, b: Any, where: str = "") -> str | None:
    """The path of the first value that differs between two JSON documents, or None."""
    if type(a) is not type(b):
        return f"{where or '.'}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, dict):
        if list(a) != list(b):
            only = sorted(set(a) ^ set(b))
            return f"{where or '.'}: keys differ" + (f" ({', '.join(map(str, only[:5]))})" if only else " (order)")
        for key in a:
            found = first_json_difference(a[key], b[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{where or '.'}: length {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_json_difference(x, y, f"{where}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{where or '.'}: {short(a)} vs {short(b)}"


def short(value: Any, limit: int = 60) -> str:
    """A value's repr cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def bytes_reason(rel: str, a: bytes, b: bytes) -> str:
    """Why two differing byte strings differ, as precisely as cheaply possible."""
    offset = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    reason = f"{len(a)} vs {len(b)} bytes, first difference at byte {offset}"
    if rel.endswith(".json"):
        try:
            found = first_json_difference(json.loads(a), json.loads(b))
        except ValueError:
            found = None
        reason += f"; {found}" if found else "; same JSON values, different formatting"
    elif rel.endswith((".txt", ".csv")):
        lines_a, lines_b = a.decode(errors="replace").splitlines(), b.decode(errors="replace").splitlines()
        for n, (x, y) in enumerate(zip(lines_a, lines_b, strict=False), start=1):
            if x != y:
                return reason + f"; line {n}: {short(x)} vs {short(y)}"
        reason += f"; {len(lines_a)} vs {len(lines_b)} lines"
    elif rel.endswith(".parquet"):
        reason += "; " + parquet_reason(a, b)
    return reason


def parquet_reason(a: bytes, b: bytes) -> str:
    """Whether two differing Parquet files hold the same table (then only their metadata differs)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    ta, tb = pq.read_table(pa.BufferReader(a)), pq.read_table(pa.BufferReader(b))
    if not ta.schema.equals(tb.schema, check_metadata=False):
        return "schemas differ"
    if not ta.equals(tb):
        return "table values differ"
    if ta.schema.metadata != tb.schema.metadata:
        return "same table, schema metadata differs"
    return "same table and schema, file layout differs"


def frames_reason(a: Path, b: Path, tree_a: Tree, tree_b: Tree) -> str | None:
    """Why two pickled DataFrames differ, or None if they are the same (values, dtypes, order, attrs)."""
    import pandas as pd
    from pandas.testing import assert_frame_equal

    with open(a, "rb") as handle:
        fa = pickle.load(handle)  # our own capture
    with open(b, "rb") as handle:
        fb = pickle.load(handle)
    if not isinstance(fa, pd.DataFrame) or not isinstance(fb, pd.DataFrame):
        return f"not DataFrames: {type(fa).__name__} vs {type(fb).__name__}"
    if list(fa.columns) != list(fb.columns):
        only = [str(c) for c in list(dict.fromkeys([*fa.columns, *fb.columns])) if (c in fa.columns) != (c in fb.columns)]
        return "columns differ" + (f" ({', '.join(only[:5])} on one side only)" if only else " in order")
    dtypes = [f"{c}: {fa[c].dtype} vs {fb[c].dtype}" for c in fa.columns if fa[c].dtype != fb[c].dtype]
    if dtypes:
        return "dtypes differ: " + "; ".join(dtypes[:5])
    for column in fa.columns:  # name the first differing cell (exact; NaN equals NaN), then check everything else
        if not fa[column].equals(fb[column]) and fa.index.equals(fb.index):
            ne = ~((fa[column] == fb[column]) | (fa[column].isna() & fb[column].isna()))
            row = ne[ne].index[0] if ne.any() else None
            if row is not None:
                return (
                    f"values differ: column {column!r}, row {row!r}: {short(fa.at[row, column])} vs {short(fb.at[row, column])}"
                )
    try:
        assert_frame_equal(fa, fb, check_exact=True, check_dtype=True, check_index_type=True, check_column_type=True)
    except AssertionError as exc:
        return "values differ: " + " ".join(str(exc).split())[:300]
    attrs_a, attrs_b = normalised_attrs(fa.attrs, tree_a), normalised_attrs(fb.attrs, tree_b)
    if attrs_a != attrs_b:
        return "attrs differ: " + (first_json_difference(attrs_a, attrs_b) or "(not JSON-like)")
    return None


def normalised_attrs(attrs: dict[Any, Any], tree: Tree) -> dict[Any, Any]:
    """A frame's attrs with the manifest's absolute path fields normalised."""
    out = dict(attrs)
    if isinstance(out.get("manifest"), dict):
        out["manifest"] = tree.manifest(out["manifest"])
    return out


def compare_file(rel: str, tree_a: Tree, tree_b: Tree) -> str | None:
    """None if file ``rel`` is the same in both trees, else the reason it differs."""
    path_a, path_b = tree_a.path / rel, tree_b.path / rel
    if rel.startswith("frames/") and rel.endswith(".pkl"):
        return frames_reason(path_a, path_b, tree_a, tree_b)
    a, b = path_a.read_bytes(), path_b.read_bytes()
    normalise: tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]] | None = None
    if re.fullmatch(r"sweep/[^/]+/manifest\.json", rel):
        normalise = tree_a.manifest_bytes, tree_b.manifest_bytes
    elif rel.endswith(".stdout.txt"):
        normalise = tree_a.stdout_bytes, tree_b.stdout_bytes
    if normalise is not None:
        raw_a, raw_b = a, b
        a, b = normalise[0](a), normalise[1](b)
        if a != b and rel.endswith("manifest.json"):
            raw = [side for side, x, y in (("A", raw_a, a), ("B", raw_b, b)) if x == y and not_canonical(x)]
            if raw:
                return bytes_reason(rel, a, b) + f" ({' and '.join(raw)} not in canonical JSON form: compared raw)"
    return None if a == b else bytes_reason(rel, a, b)


def not_canonical(raw: bytes) -> bool:
    """Whether a manifest's bytes are not exactly ``canonical(json.loads(raw))`` (so it was not normalised)."""
    try:
        return canonical(json.loads(raw)) != raw
    except ValueError:
        return True


def compare(a: Path, b: Path) -> int:
    """Compare two capture trees; print one line per file and a total; 1 if anything differs."""
    for path in (a, b):
        if not path.is_dir():
            raise SystemExit(f"compare: {path} is not a folder")
    tree_a, tree_b = Tree(a), Tree(b)
    for tree in (tree_a, tree_b):
        if not tree.meta:
            print(f"warning: {tree.path} has no {METADATA}: absolute paths cannot be normalised", file=sys.stderr)
    versions_a, versions_b = tree_a.meta.get("imported", {}), tree_b.meta.get("imported", {})
    for key in ("python", "numpy", "pandas", "pyarrow", "matplotlib", "sim_version"):
        if versions_a.get(key) != versions_b.get(key):
            print(f"warning: {key} differs: {versions_a.get(key)} vs {versions_b.get(key)}", file=sys.stderr)
    files_a, files_b = tree_a.files() - {METADATA}, tree_b.files() - {METADATA}
    differ = 0
    for rel in sorted(files_a | files_b):
        if rel not in files_b:
            reason: str | None = f"missing in {b}"
        elif rel not in files_a:
            reason = f"missing in {a}"
        else:
            try:
                reason = compare_file(rel, tree_a, tree_b)
            except Exception as exc:  # an unreadable file is a difference, not a crash
                reason = f"cannot compare: {type(exc).__name__}: {exc}"
        if reason is None:
            print(f"{rel}: same")
        else:
            differ += 1
            print(f"{rel}: DIFFERS: {reason}")
    print(f"{len(files_a | files_b)} files compared, {differ} differ")
    return 1 if differ else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: ``capture OUTDIR [--python PY]`` or ``compare A B``."""
    parser = argparse.ArgumentParser(description=__doc__, epilog=DETAILS, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    cap = sub.add_parser("capture", help="run every scenario and experiment through the CLI into OUTDIR (from the repo root)")
    cap.add_argument("outdir", type=Path)
    cap.add_argument("--python", default=sys.executable, help="interpreter that runs the CLI (default: this one)")
    cmp = sub.add_parser("compare", help="compare two capture folders file by file")
    cmp.add_argument("a", type=Path)
    cmp.add_argument("b", type=Path)
    args = parser.parse_args(argv)
    if args.command == "capture":
        return capture(args.outdir, args.python)
    return compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
