"""Fuzzed input files: mutations of the baseline scenario and of an experiment file end either
in an InputError whose every problem names file, field, expected and found, or in a run whose
``--json`` output is strict JSON, each within a time and memory bound the harness enforces.

Mutations: deleted keys, wrong types, non-finite and extreme numbers, aliases (shared nodes,
"billion laughs", merge keys), deep nesting, huge strings (with control and bidi characters)
and large files. Each case is a file written to a temporary folder, loaded in process.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import re
import resource
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli.main import main
from sim.engine.model import run_scenario
from sim.errors import InputError
from sim.inputs import load_experiment, load_scenario
from sim.results import json_text, summary
from sim.sweep.design import design_points

REPO = Path(__file__).resolve().parent.parent
SCENARIO = REPO / "scenarios" / "istanbul_2025.yaml"
EXPERIMENT = REPO / "experiments" / "sanctions_vs_patience.yaml"

SECONDS = 30.0
"""Watchdog per case: far above the second or so a case takes on a busy machine; a hang
(the "billion laughs" took minutes before the reader refused aliases) trips it."""
MEMORY = 1 << 30
"""Address space a case may add to the process (RLIMIT_AS, where the platform has it)."""
EXAMPLES = {"scenario": 220, "experiment": 90, "phased": 60, "calibration": 30, "cases": 30}
"""Cases per mutation kind and seed file (about 3,000 in all)."""

Key = str | int
FieldPath = tuple[Key, ...]
PLACEHOLDER = "fuzz-placeholder"
LOCATION = re.compile(r"^(?P<file>.+?)(?::(?P<line>\d+))?: (?P<field>.+?): expected .+, found .+$")
"""A problem's line; a field may hold spaces here (a fuzzed key, a shortened one's length)."""

WRONG_TYPES: list[Any] = ["text", "", 0, 1.5, True, None, [], {}, [1, "a"], {"k": 1}, "1.0e+30", "high"]
EXTREMES: list[Any] = [math.inf, -math.inf, math.nan, 1e308, -1e308, 5e-324, -5e-324, 10**12, -1, 0, 10**30, 1.0e30]
CHARACTERS = ["x", "\u202e", "\x1b", "\u00e9", "\x00", "\u2066", "\n"]


def _scenario_seed() -> dict[str, Any]:
    data = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))
    data["seed_document"] = str(REPO / "seeds" / "istanbul_2025_report.txt")
    data["evidence_file"] = str(REPO / "seeds" / "istanbul_2025_evidence.yaml")
    return data


def _experiment_seed() -> dict[str, Any]:
    data = yaml.safe_load(EXPERIMENT.read_text(encoding="utf-8"))
    data["scenario"] = str(REPO / "scenarios" / "sanctions_credible.yaml")
    return data


def _phased_seed() -> dict[str, Any]:
    """The truce test scenario (phases, a truce with its duration in days, weekly rounds) with
    an event dated by day: the forms the baseline does not use."""
    folder = REPO / "tests" / "data" / "phases"
    data = yaml.safe_load((folder / "truce.yaml").read_text(encoding="utf-8"))
    data["seed_document"] = str(folder / "seed.txt")
    data["evidence_file"] = str(folder / "evidence.yaml")
    data["events"] = [
        {"type": "deadline", "name": "a dated deadline", "by": ["a"], "targets": {"b": -0.05}, "from_day": 100,
         "unless_agreed": "ceasefire", "credibility": 0.5, "assumption": "A deadline on a calendar date (fuzzed)."}
    ]
    return data


def _calibration_seed(name: str) -> dict[str, Any]:
    """A bundled calibration file (its `observed:` and `calibration:` blocks, or `cases:`)."""
    return yaml.safe_load((REPO / "experiments" / name).read_text(encoding="utf-8"))


SEEDS: dict[str, dict[str, Any]] = {
    "scenario": _scenario_seed(),
    "experiment": _experiment_seed(),
    "phased": _phased_seed(),
    "calibration": _calibration_seed("calibrate_istanbul_2025.yaml"),
    "cases": _calibration_seed("calibration/war_costs_three_cases.yaml"),
}


def _paths(node: Any, path: FieldPath = ()) -> list[FieldPath]:
    """Every key path below ``node`` (mapping keys and list positions)."""
    out: list[FieldPath] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        out.append((*path, key))
        out.extend(_paths(child, (*path, key)))
    return out


def _get(data: Any, path: FieldPath) -> Any:
    for part in path:
        data = data[part]
    return data


PATHS = {name: _paths(seed) for name, seed in SEEDS.items()}
NUMBERS = {
    name: [p for p in paths if isinstance(_get(SEEDS[name], p), int | float | str) and not isinstance(_get(SEEDS[name], p), bool)]
    for name, paths in PATHS.items()
}
CONTAINERS = {name: [p for p in paths if isinstance(_get(SEEDS[name], p), dict | list)] for name, paths in PATHS.items()}


# ---------------------------------------------------------------------------- mutations


def _set(data: Any, path: FieldPath, value: Any) -> None:
    _get(data, path[:-1])[path[-1]] = value


def _rename(data: Any, path: FieldPath, key: str) -> None:
    """Rename a mapping key in place, keeping the order (a list item is replaced instead)."""
    parent = _get(data, path[:-1])
    if isinstance(parent, list):
        parent[path[-1]] = key
        return
    items = [(key if k == path[-1] else k, v) for k, v in parent.items()]
    parent.clear()
    parent.update(items)


def _delete(data: Any, path: FieldPath) -> None:
    parent = _get(data, path[:-1])
    del parent[path[-1]]


def _laughs(depth: int, width: int) -> list[Any]:
    """Nested lists sharing their items: ``width ** depth`` leaves once expanded."""
    node: list[Any] = ["lol"]
    for _ in range(depth):
        node = [node] * width
    return node


def _many_issues(data: dict[str, Any], n: int, group: str | None) -> None:
    """``n`` more issues of two levels, each with a position for every belligerent, in
    agenda group ``group`` (or in new groups of ten: the engine's rounds cost time per group)."""
    for i in range(n):
        name = f"extra{i}"
        data["issues"][name] = {"description": "d", "units": "u", "range": [0, 1], "levels": 2, "status_quo": 0}
        data["agenda"].setdefault(group or f"extra_group{i // 10}", []).append(name)
        for party in data["parties"].values():
            if party.get("role") == "belligerent":
                party["positions"][name] = {"ideal": 0, "salience": "low", "assumption": "fuzz"}


@dataclass(frozen=True)
class Case:
    """A mutated document, the function finishing its YAML text, and what was done to it
    (its repr: what hypothesis prints for a failing case, never the whole document)."""

    data: dict[str, Any]
    finish: Callable[[str], str]
    recipe: str

    def __repr__(self) -> str:
        return f"Case({self.recipe})"


@st.composite
def cases(draw: st.DrawFn, seed: str, kind: str) -> Case:
    """A mutated copy of seed ``seed`` by one mutation of kind ``kind``."""
    data = copy.deepcopy(SEEDS[seed])
    paths, numbers, containers = PATHS[seed], NUMBERS[seed], CONTAINERS[seed]
    notes = [kind]

    def pick(strategy: st.SearchStrategy[Any], label: str) -> Any:
        value = draw(strategy)
        notes.append(f"{label}={repr(value)[:60]}")
        return value

    finish: Callable[[str], str] = lambda text: text  # noqa: E731
    if kind == "delete":
        _delete(data, pick(st.sampled_from(paths), "path"))
    elif kind == "wrong_type":
        _set(data, pick(st.sampled_from(paths), "path"), copy.deepcopy(pick(st.sampled_from(WRONG_TYPES), "value")))
    elif kind == "number":
        for path in pick(st.lists(st.sampled_from(numbers), min_size=1, max_size=3, unique=True), "paths"):
            _set(data, path, pick(st.sampled_from(EXTREMES), "value"))
    elif kind == "alias":
        variant = pick(st.sampled_from(["share", "laughs", "merge"]), "variant")
        target = pick(st.sampled_from(paths), "path")
        if variant == "share":
            _set(data, target, _get(data, pick(st.sampled_from(containers), "shared")))
        elif variant == "laughs":
            _set(data, target, _laughs(pick(st.integers(2, 9), "depth"), pick(st.integers(2, 9), "width")))
        else:
            block = pick(st.sampled_from(containers), "block")
            if isinstance(_get(data, block), dict):
                shared = len(block) > 1 and pick(st.booleans(), "shared")
                _get(data, block)[PLACEHOLDER] = _get(data, block[:-1]) if shared else {"a": 1}
                finish = lambda text: text.replace(PLACEHOLDER, "<<")  # noqa: E731
            else:
                _set(data, target, _get(data, block))
    elif kind == "deep":
        depth = pick(st.sampled_from([30, 63, 64, 65, 200, 5_000, 100_000]), "depth")
        bracket = pick(st.sampled_from(["[", "{a: "]), "bracket")
        close = "]" if bracket == "[" else "}"
        _set(data, pick(st.sampled_from(paths), "path"), PLACEHOLDER)
        finish = lambda text: text.replace(PLACEHOLDER, bracket * depth + "1" + close * depth, 1)  # noqa: E731
    elif kind == "huge_string":
        huge = pick(st.sampled_from(CHARACTERS), "character") * pick(
            st.sampled_from([81, 1_000, 100_000, 1_000_000, 3_000_000]), "length"
        )
        path = pick(st.sampled_from(paths), "path")
        (_rename if pick(st.booleans(), "as_key") else _set)(data, path, PLACEHOLDER)
        # a JSON string is a YAML double-quoted scalar with the same escapes
        finish = lambda text: text.replace(PLACEHOLDER, json.dumps(huge), 1)  # noqa: E731
    elif kind == "size":
        variants = {"scenario": ["comment", "issues", "group", "list"], "phased": ["comment", "list"],
                    "cases": ["comment"]}.get(seed, ["comment", "list", "levels"])
        variant = pick(st.sampled_from(variants), "variant")
        if variant == "comment":
            n = pick(st.sampled_from([1 << 20, (2 << 20) + 1, 8 << 20]), "bytes")
            finish = lambda text: "#" + "x" * n + "\n" + text  # noqa: E731
        elif variant == "issues":  # loading 2,000 issues is tested on its own: running them here would be slow
            _many_issues(data, pick(st.sampled_from([50, 300]), "issues"), None)
        elif variant == "group":
            _many_issues(data, pick(st.sampled_from([10, 19, 20, 21, 30]), "issues"), "security")
            levels = pick(st.sampled_from([None, 3, 101, 1_001, 10**6]), "levels")
            for issue in data["issues"].values() if levels else ():
                issue["levels"] = levels
        elif variant == "levels":
            param = pick(st.sampled_from(sorted(data["parameters"])), "parameter")
            data["parameters"][param]["levels"] = pick(st.sampled_from([1_000, 10_000, 10**6, 10**9]), "levels")
            data["replicas"] = pick(st.sampled_from([1, 200, 10**6, 10**7]), "replicas")
        else:
            n = pick(st.sampled_from([1_000, 10_000]), "items")  # the node limit itself: tests/test_yamlfile.py
            if seed == "experiment":
                param = pick(st.sampled_from(sorted(data["parameters"])), "parameter")
                lo, hi = data["parameters"][param].pop("range")
                data["parameters"][param].pop("levels", None)
                data["parameters"][param]["values"] = [lo + (hi - lo) * i / n for i in range(n)]
            else:
                _set(data, pick(st.sampled_from(paths), "path"), [f"ref{i}" for i in range(n)])
    return Case(data, finish, ", ".join(notes))


# ---------------------------------------------------------------------------- the harness


class CaseTimeoutError(Exception):
    """A case ran past the watchdog."""


@contextlib.contextmanager
def bounded(seconds: float = SECONDS, memory: int = MEMORY) -> Iterator[None]:
    """Run the body under a watchdog timer and, on Linux, an address-space limit of the
    process's current size plus ``memory`` bytes (a MemoryError then fails the case)."""

    def expire(signum: int, frame: Any) -> None:
        raise CaseTimeoutError(f"the case ran past {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    # it fires again every half second: an exception raised where Python ignores it (a gc
    # callback) must not let the case run on unwatched
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.5)
    limits = None
    statm = Path("/proc/self/statm")
    if sys.platform == "linux" and statm.is_file():
        limits = resource.getrlimit(resource.RLIMIT_AS)
        size = int(statm.read_text().split()[0]) * resource.getpagesize()
        soft = size + memory if limits[1] == resource.RLIM_INFINITY else min(size + memory, limits[1])
        resource.setrlimit(resource.RLIMIT_AS, (soft, limits[1]))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if limits is not None:
            resource.setrlimit(resource.RLIMIT_AS, limits)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259)")


def strict_json(text: str) -> Any:
    """Parse JSON as RFC 8259 has it: NaN, Infinity and -Infinity are refused."""
    return json.loads(text, parse_constant=_refuse_constant)


def check_problems(err: InputError) -> None:
    """Every problem names a file, a field (or the top level), and says what was expected
    and found, on one printable line."""
    for problem in err.problems:
        text = str(problem)
        assert problem.file and problem.expected and problem.found, text
        assert LOCATION.match(text), f"not 'file:line: field: expected X, found Y': {text[:300]!r}"
        assert text.isprintable(), f"unescaped control or bidi character in {text[:300]!r}"
        assert len(text) < 2_000, f"a problem of {len(text):,} characters: {text[:300]!r}"


def evaluate(seed: str, path: Path) -> str:
    """Load the file at ``path`` (a mutated ``seed``) and, if it loads, run it small (a
    scenario: ``run --replicas 2 --json`` and ``analyze --json``; an experiment: its first
    design point with 2 replicas): ``rejected`` or ``ran``."""
    if seed == "cases":  # a multi-case calibration: it loads (each case's scenario with its numbers bound) or is refused
        from sim.inputs.calibration import load_cases

        try:
            load_cases(path)
        except InputError as err:
            check_problems(err)
            return "rejected"
        return "ran"
    if seed not in ("experiment", "calibration"):
        try:
            load_scenario(path)
        except InputError as err:
            check_problems(err)
            return "rejected"
        for command in (["run", str(path), "--replicas", "2", "--json"], ["analyze", str(path), "--json"]):
            out, errors = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(errors):
                status = main(command)
            assert status == 0, errors.getvalue()[:2000]
            strict_json(out.getvalue())
        return "ran"
    try:
        loaded = load_experiment(path)
        points = design_points(loaded)
        values = dict(points.points.iloc[0])
        scenario = loaded.point_scenario(0, values).model_copy(update={"replicas": 2})
    except InputError as err:
        check_problems(err)
        return "rejected"
    strict_json(json_text(summary(run_scenario(scenario))))
    return "ran"


def write_case(folder: Path, case: Case) -> Path:
    """The mutated document as a YAML file in ``folder``."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text = case.finish(yaml.dump(case.data, Dumper=dumper, sort_keys=False, allow_unicode=False, width=1_000))
    path = folder / "case.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module", autouse=True)
def warm_up(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each seed file, unchanged, runs: and every module a case may need is imported (and
    has made its allocator's first reservations) before any limit is set."""
    folder = tmp_path_factory.mktemp("seeds")
    for seed, data in SEEDS.items():
        assert evaluate(seed, write_case(folder, Case(data, lambda text: text, "unchanged"))) == "ran"


KINDS = ("delete", "wrong_type", "number", "alias", "deep", "huge_string", "size")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_property_mutated_input_is_rejected_or_runs(seed: str, kind: str, tmp_path: Path) -> None:
    """A mutated scenario or experiment is a clean InputError or a run with strict JSON, in bounded time and memory."""

    @settings(
        max_examples=EXAMPLES[seed],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    )
    @given(cases(seed, kind))
    def check(case: Case) -> None:
        path = write_case(tmp_path, case)
        with bounded():
            evaluate(seed, path)

    check()
