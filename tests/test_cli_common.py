"""Output folders of ``ceasefire run --out`` and ``ceasefire plot --out``: a person's own
files are never replaced (the command exits 2 naming them), a folder holding only what the
last run of the same command wrote is reused with its stale outputs removed, and every
``--json`` output is strict JSON."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import pytest

from sim.cli.common import MARKER
from sim.cli.main import RUN_FILES, main
from sim.sweep import run_sweep

REPO = Path(__file__).resolve().parent.parent
BASELINE = str(REPO / "scenarios" / "istanbul_2025.yaml")
SMALL = REPO / "tests" / "data" / "sweeps" / "small_grid.yaml"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _marker(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    return data


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished small sweep (8 points x 40 replicas)."""
    out = tmp_path_factory.mktemp("sweep") / "s"
    run_sweep(SMALL, out, workers=1, progress=io.StringIO())
    return out


def test_run_out_refuses_a_folder_with_a_persons_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A same-named file of the user's is not replaced: exit 2, the folder and the file named."""
    out = tmp_path / "mine"
    out.mkdir()
    (out / "summary.json").write_text("my own notes", encoding="utf-8")
    (out / "notes.txt").write_text("more", encoding="utf-8")
    status, stdout, stderr = _run(capsys, "run", BASELINE, "--replicas", "4", "--out", str(out))
    assert status == 2 and stdout == ""
    assert stderr.strip() == (
        f"{out}: --out: expected a new or empty folder, or one holding only what `ceasefire run` wrote there, "
        "found files it did not write: notes.txt, summary.json"
    )
    assert (out / "summary.json").read_text(encoding="utf-8") == "my own notes"
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "summary.json"]


def test_run_out_reuses_its_own_folder_and_removes_a_stale_trace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A --full-trace run, then a plain one into the same folder: the old replica trace goes."""
    out = tmp_path / "run"
    assert _run(capsys, "run", BASELINE, "--replicas", "4", "--out", str(out), "--full-trace")[0] == 0
    assert _marker(out) == {"command": "run", "files": sorted([*RUN_FILES, "trace_replicas.parquet"])}
    assert (out / "trace_replicas.parquet").is_file()
    assert _run(capsys, "run", BASELINE, "--replicas", "4", "--out", str(out))[0] == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([*RUN_FILES, MARKER])
    assert _marker(out) == {"command": "run", "files": sorted(RUN_FILES)}


def test_run_out_into_an_empty_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An existing empty folder is fine, and so is one that does not exist yet."""
    (tmp_path / "empty").mkdir()
    for name in ("empty", "new/deeper"):
        assert _run(capsys, "run", BASELINE, "--replicas", "4", "--out", str(tmp_path / name))[0] == 0
        assert (tmp_path / name / "summary.json").is_file()


def test_another_commands_folder_is_not_run_s(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Outputs listed by another command's marker are not this command's to replace."""
    out = tmp_path / "plots"
    out.mkdir()
    (out / "lines.png").write_bytes(b"png")
    (out / MARKER).write_text(json.dumps({"command": "plot", "files": ["lines.png"]}), encoding="utf-8")
    status, _, stderr = _run(capsys, "run", BASELINE, "--replicas", "4", "--out", str(out))
    assert status == 2
    assert stderr.strip().endswith(f"found files it did not write: {MARKER}, lines.png")


def test_plot_out_follows_the_same_rule(sweep_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """plot --out refuses a person's folder, reuses its own, and drops a chart it no longer draws."""
    out = tmp_path / "charts"
    out.mkdir()
    (out / "heatmap.png").write_bytes(b"my own chart")
    status, _, stderr = _run(capsys, "plot", str(sweep_dir), "--out", str(out), "--points", "0")
    assert status == 2 and "found files it did not write: heatmap.png" in stderr
    assert (out / "heatmap.png").read_bytes() == b"my own chart"
    (out / "heatmap.png").unlink()
    assert _run(capsys, "plot", str(sweep_dir), "--out", str(out), "--points", "0")[0] == 0
    assert _marker(out)["files"] == ["convergence_point0.png", "heatmap.png", "lines.png"]
    assert _run(capsys, "plot", str(sweep_dir), "--out", str(out), "--points", "3")[0] == 0
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "convergence_point3.png", "heatmap.png", "lines.png"]


@pytest.mark.parametrize(
    "args",
    [
        ("run", BASELINE, "--replicas", "3", "--json"),
        ("analyze", BASELINE, "--json"),
        ("analyze", BASELINE, "--simulate", "--replicas", "3", "--json"),
    ],
    ids=["run", "analyze", "analyze-simulate"],
)
def test_json_output_is_strict(args: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    """--json parses with NaN and infinities refused (RFC 8259); a group none agreed has null means."""
    status, stdout, _ = _run(capsys, *args)
    assert status == 0
    data = json.loads(stdout, parse_constant=_refuse_constant)
    if args[0] == "run":
        security = data["groups"]["security"]
        if security["agreed"] == 0:
            assert security["mean_round"] is None
        assert all(isinstance(v, float) and math.isfinite(v) for v in security["agreement_rate_ci95"])
