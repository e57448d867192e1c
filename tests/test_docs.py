"""The documentation runs: the tutorial script, the README's API example, the how-to's
example scenario, the percent-script hook, and a strict build of the site."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.errors import InputError

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
TUTORIAL = DOCS / "tutorial" / "first_hour.py"
EXAMPLE = DOCS / "how-to" / "example"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _env(tmp: Path) -> dict[str, str]:
    """The environment of a child run: no extra scenario folder, no screen, temp files in ``tmp``."""
    env = {k: v for k, v in os.environ.items() if k != "CEASEFIRE_SCENARIOS"}
    env["MPLBACKEND"] = "Agg"
    (tmp / "tmp").mkdir(exist_ok=True)
    env["TMPDIR"] = str(tmp / "tmp")
    return env


def _readme_example() -> str:
    """The first Python block of the README's "What the model is" section."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## What the model is", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "README's 'What the model is' section has no ```python block"
    return match.group(1)


def test_tutorial_runs_from_any_folder(tmp_path: Path) -> None:
    """The tutorial script runs to its end in a fresh folder and writes the convergence chart there."""
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run(
        [sys.executable, "-W", "error", str(TUTORIAL)],
        cwd=work,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    chart = work / "convergence.png"
    assert chart.read_bytes()[:8] == PNG_SIGNATURE
    assert chart.stat().st_size > 10_000  # a drawn chart, not an empty canvas


def test_tutorial_is_percent_format() -> None:
    """The tutorial is a jupytext percent script that starts with a markdown cell and imports only ``sim`` of the package."""
    text = TUTORIAL.read_text(encoding="utf-8")
    assert text.startswith("# %% [markdown]\n# # ")
    assert text.count("\n# %%\n") >= 10
    imports = set(re.findall(r"^(?:from|import) (sim[\w.]*)", text, re.MULTILINE))
    assert imports == {"sim", "sim.errors"}


def test_readme_example_runs(tmp_path: Path) -> None:
    """The README's five-line API example, as written, prints both agenda groups and writes its chart."""
    code = _readme_example()
    assert code.count("\n") == 5 and "sim.run(threat, replicas=500, seed=1)" in code
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "humanitarian" in done.stdout and "security" in done.stdout
    assert (tmp_path / "convergence.png").read_bytes()[:8] == PNG_SIGNATURE


def test_docs_home_shows_the_readme_example() -> None:
    """The site's home page shows the same example as the README, character for character."""
    home = (DOCS / "index.md").read_text(encoding="utf-8")
    assert f"```python\n{_readme_example()}```" in home


def test_howto_example_scenario_loads_and_runs() -> None:
    """The how-to's example scenario validates with its evidence (2 parties, 2 issues, 6 quotes) and runs."""
    loaded = sim.load_scenario(EXAMPLE / "valley_talks.yaml")
    assert list(loaded.scenario.parties) == ["north", "south"]
    assert list(loaded.scenario.agenda) == ["exchange", "road"]
    assert len(loaded.evidence) == 6
    result = sim.run(loaded, replicas=20, seed=3)
    assert list(result.groups.index) == ["exchange", "road"]
    assert result.groups["agreed"].between(0, 20).all()


def _line_of(path: Path, pattern: str, after: str) -> int:
    """The 1-based number of the first line matching ``pattern`` after the first line containing ``after``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if after in line)
    return next(i + 1 for i, line in enumerate(lines) if i > start and re.search(pattern, line))


def test_howto_example_errors_are_the_ones_shown(tmp_path: Path) -> None:
    """Breaking the example as the how-to does gives its two problems: the quote off its line and the misspelt id."""
    for file in EXAMPLE.iterdir():
        shutil.copy(file, tmp_path / file.name)
    evidence, scenario = tmp_path / "talks_evidence.yaml", tmp_path / "valley_talks.yaml"
    text = evidence.read_text(encoding="utf-8")
    entry = text.index("  south_caps_200:")
    evidence.write_text(text[:entry] + text[entry:].replace("    line: 3", "    line: 4", 1), encoding="utf-8")
    scenario.write_text(
        scenario.read_text(encoding="utf-8").replace("evidence: [south_caps_200]", "evidence: [south_cap_200]"),
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        sim.load_scenario(scenario)
    found = {(Path(p.file).name, p.line, p.field) for p in caught.value.problems}
    assert found == {
        ("talks_evidence.yaml", _line_of(evidence, r"^\s+quote:", "south_caps_200:"), "entries.south_caps_200.quote"),
        ("valley_talks.yaml", _line_of(scenario, r"south_cap_200", "  south:"), "parties.south.positions.detainees.evidence[0]"),
    }
    shown = (DOCS / "how-to" / "scenario.md").read_text(encoding="utf-8")
    for name, line, field in found:
        assert f"{name}:{line}: {field}: " in shown


def test_reference_pages_list_every_module() -> None:
    """Each package's reference page names every public module of the package (a new module cannot go missing)."""
    for package in sorted(p for p in (REPO / "sim").iterdir() if (p / "__init__.py").is_file()):
        page = (DOCS / "reference" / f"{package.name}.md").read_text(encoding="utf-8")
        listed = re.search(rf"::: sim\.{package.name}\n    options:\n      members: \[([^\]]*)\]", page)
        assert listed, f"docs/reference/{package.name}.md has no '::: sim.{package.name}' with a members list"
        members = {m.strip() for m in listed.group(1).split(",")}
        modules = {f.stem for f in package.glob("*.py") if not f.stem.startswith("_") and f.stem != "conftest"}
        assert modules <= members, f"{package.name}: missing {sorted(modules - members)}"
    pages = {f.stem for f in (DOCS / "reference").glob("*.md")} - {"index"}
    top = {f.stem for f in (REPO / "sim").glob("*.py") if not f.stem.startswith("_")}
    assert top <= pages | {"errors"}  # errors is documented on the inputs page


def _hook() -> object:
    """The MkDocs hook module that renders percent scripts."""
    spec = importlib.util.spec_from_file_location("percent_script", DOCS / "hooks" / "percent_script.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_percent_script_hook_renders_cells() -> None:
    """Markdown cells are uncommented, code cells fenced, empty cells dropped."""
    script = "# %% [markdown]\n# # Title\n#\n# Some *text*.\n\n# %%\nx = 1\n\n# %%\n\n# %% [markdown]\n# End.\n"
    expected = "# Title\n\nSome *text*.\n\n```python\nx = 1\n```\n\nEnd.\n"
    assert _hook().percent_to_markdown(script) == expected  # type: ignore[attr-defined]


@pytest.mark.skipif(
    not all(importlib.util.find_spec(m) for m in ("mkdocs", "material", "mkdocstrings_handlers.python")),
    reason="the docs extra is not installed: pip install -e '.[docs]'",
)
def test_site_builds_strict(tmp_path: Path) -> None:
    """`mkdocs build --strict` of the site passes with no warning, from outside the repository, in under 60 s."""
    env = _env(tmp_path)
    env["NO_MKDOCS_2_WARNING"] = "1"  # mkdocs-material's end-of-life banner
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(REPO / "mkdocs.yml"), "--site-dir", str(site)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "WARNING" not in done.stderr
    for page in ("index.html", "tutorial/index.html", "reference/engine/index.html", "explanation/model/index.html"):
        assert (site / page).is_file(), page
    tutorial = (site / "tutorial" / "index.html").read_text(encoding="utf-8")
    assert "sim.load_sweep" in tutorial and "# %%" not in tutorial
