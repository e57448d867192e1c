"""The installed ``ceasefire`` command: run, validate and list, exit codes and outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

BASELINE = "scenarios/istanbul_2025.yaml"
BAD = "tests/data/bad/win_probability_above_one.yaml"
BAD_LINE = f"{BAD}:106: parties.russia.war.win_probability: expected a number <= 1.0, found 1.7"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _no_traceback(proc) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stdout, proc.stdout


def test_run_json(cli) -> None:
    """``run --json`` exits 0 and prints one JSON object with the summary fields."""
    proc = cli("run", BASELINE, "--replicas", "20", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert isinstance(data, dict)
    assert {"scenario", "seed", "replicas", "groups"} <= data.keys()
    assert data["scenario"] == "istanbul_2025"
    assert data["replicas"] == 20
    humanitarian = data["groups"]["humanitarian"]
    assert 0.0 <= humanitarian["agreement_rate"] <= 1.0
    assert {"mean_round", "mean_outcome"} <= humanitarian.keys()
    assert "prisoner_exchange" in humanitarian["mean_outcome"]


def test_run_out_writes_every_file(cli, tmp_path: Path) -> None:
    """``run --out DIR`` writes summary.json, trace.csv/.parquet, replicas.csv and a PNG chart."""
    out = tmp_path / "run"
    proc = cli("run", BASELINE, "--replicas", "10", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    names = ["summary.json", "trace.csv", "trace.parquet", "replicas.csv", "convergence.png"]
    for name in names:
        assert (out / name).is_file(), f"{name} not written"
        assert (out / name).stat().st_size > 0, f"{name} is empty"
    assert (out / "convergence.png").read_bytes().startswith(PNG_MAGIC)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["replicas"] == 10
    assert set(summary["groups"]) == {"humanitarian", "security"}
    replicas = pd.read_csv(out / "replicas.csv")
    assert len(replicas) == 10 * len(summary["groups"])
    trace_csv = pd.read_csv(out / "trace.csv")
    trace_parquet = pd.read_parquet(out / "trace.parquet")
    assert len(trace_csv) == len(trace_parquet) > 0
    assert list(trace_csv.columns) == list(trace_parquet.columns)


def test_validate_good(cli) -> None:
    """``validate`` on the baseline exits 0 and says ok (stderr holds warnings at most)."""
    proc = cli("validate", BASELINE)
    assert proc.returncode == 0, proc.stderr
    assert "ok" in proc.stdout
    assert all(line.startswith("warning: ") for line in proc.stderr.splitlines()), proc.stderr


def test_validate_bad(cli) -> None:
    """``validate`` on a bad file exits 2 with file:line: field: expected, found on stderr."""
    proc = cli("validate", BAD)
    assert proc.returncode == 2
    assert BAD_LINE in proc.stderr
    _no_traceback(proc)


def test_validate_reports_each_file(cli) -> None:
    """``validate good bad`` checks both: ok for the good one, the problem for the bad one, exit 2."""
    proc = cli("validate", BASELINE, BAD)
    assert proc.returncode == 2
    assert f"{BASELINE}: ok" in proc.stdout
    assert BAD_LINE in proc.stderr
    _no_traceback(proc)


def test_run_bad_file_writes_nothing(cli, tmp_path: Path) -> None:
    """``run`` on a bad file exits 2, names file:line on stderr and creates no --out folder."""
    out = tmp_path / "never"
    proc = cli("run", BAD, "--replicas", "5", "--out", str(out))
    assert proc.returncode == 2
    assert BAD_LINE in proc.stderr
    assert proc.stdout == ""
    _no_traceback(proc)
    assert not out.exists()


def test_run_zero_replicas(cli, tmp_path: Path) -> None:
    """``run --replicas 0`` exits 2 with the problem on stderr and writes nothing."""
    out = tmp_path / "never"
    proc = cli("run", BASELINE, "--replicas", "0", "--out", str(out))
    assert proc.returncode == 2
    assert "replicas: expected a number >= 1, found 0" in proc.stderr
    _no_traceback(proc)
    assert not out.exists()


def test_run_missing_file(cli) -> None:
    """``run`` on a file that does not exist exits 2 naming it, without a traceback."""
    proc = cli("run", "scenarios/no_such_scenario.yaml", "--replicas", "5")
    assert proc.returncode == 2
    assert "scenarios/no_such_scenario.yaml" in proc.stderr
    _no_traceback(proc)


def test_run_unknown_bundled_name(cli) -> None:
    """``run`` with an unknown scenario name exits 2 and lists the bundled names."""
    proc = cli("run", "no_such_scenario", "--replicas", "5")
    assert proc.returncode == 2
    assert "istanbul_2025" in proc.stderr
    _no_traceback(proc)


def test_list(cli, repo_root: Path) -> None:
    """``list`` shows istanbul_2025 with its question."""
    from sim.inputs import load_scenario

    question = load_scenario(repo_root / BASELINE).scenario.question
    proc = cli("list")
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.split(" ", 1)[0] == "istanbul_2025"]
    assert len(rows) == 1, proc.stdout
    assert question in rows[0]


def test_run_bundled_name(cli) -> None:
    """``run istanbul_2025`` finds the bundled scenario by name from the repository root."""
    proc = cli("run", "istanbul_2025", "--replicas", "5", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["scenario"] == "istanbul_2025"
    assert data["replicas"] == 5


def test_validate_broken_evidence_file(cli) -> None:
    """``validate`` on a scenario whose evidence file is not valid YAML exits 2 without a traceback."""
    proc = cli("validate", "tests/data/bad/evidence_invalid_yaml.yaml")
    _no_traceback(proc)
    assert proc.returncode == 2
    assert "tests/data/bad/broken_yaml_evidence.yaml:9:" in proc.stderr


def test_run_out_is_a_file(cli, tmp_path: Path) -> None:
    """``run --out PATH`` where PATH is an existing file exits 2 naming it, without a traceback."""
    target = tmp_path / "a_file"
    target.write_text("not a folder\n", encoding="utf-8")
    proc = cli("run", BASELINE, "--replicas", "3", "--out", str(target))
    _no_traceback(proc)
    assert proc.returncode == 2
    assert str(target) in proc.stderr
    assert target.read_text(encoding="utf-8") == "not a folder\n"


def test_run_rounds_before_a_scheduled_event_anticipates_it(cli) -> None:
    """An event that falls due after the last round is accepted: the baseline's sanctions
    fall due in round 6, and a 3-round session runs with them anticipated throughout."""
    proc = cli("run", "istanbul_2025", "--rounds", "3", "--replicas", "5")
    _no_traceback(proc)
    assert proc.returncode == 0, proc.stderr


def test_printed_texts_from_the_file_are_escaped(tmp_path: Path, repo_root: Path, capsys) -> None:
    """A right-to-left override or an escape sequence in a title reaches the terminal escaped."""
    from sim.cli.main import main

    text = (repo_root / BASELINE).read_text(encoding="utf-8").replace("../seeds/", f"{repo_root / 'seeds'}/")
    text = text.replace("title: Istanbul talks, 16 May 2025 (baseline)", 'title: "Ist\\u202eanbul \\x1b[31mtalks"')
    path = tmp_path / "bidi.yaml"
    path.write_text(text, encoding="utf-8")
    for command in (["run", str(path), "--replicas", "3"], ["analyze", str(path)]):
        assert main(command) == 0
        out = capsys.readouterr().out
        assert out.splitlines()[0] == "Ist\\u202eanbul \\x1b[31mtalks"
        assert "\u202e" not in out and "\x1b" not in out
    assert main(["run", str(path), "--replicas", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "Ist\u202eanbul \x1b[31mtalks"  # JSON keeps the text, escaped by JSON

def test_full_trace_without_out_is_an_input_error(cli) -> None:
    """``--full-trace`` needs ``--out``: exit 2 with the problem, nothing run, no traceback."""
    proc = cli("run", BASELINE, "--replicas", "5", "--full-trace")
    assert proc.returncode == 2
    assert "command line: --full-trace: expected --out DIR as well" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_wrote_line_names_every_file_written(cli, tmp_path: Path) -> None:
    """With ``--full-trace`` the 'wrote' line names exactly the files in the folder, trace_replicas.parquet too."""
    out = tmp_path / "run"
    proc = cli("run", BASELINE, "--replicas", "5", "--out", str(out), "--full-trace")
    assert proc.returncode == 0, proc.stderr
    line = next(line for line in proc.stdout.splitlines() if line.startswith("wrote "))
    named = line.removeprefix("wrote ").removesuffix(f" to {out}").replace(" and ", ", ").split(", ")
    assert sorted(named) == sorted(p.name for p in out.iterdir() if p.name != ".ceasefire-run.json")  # the folder's marker
    assert "trace_replicas.parquet" in named


def test_quiet_prints_only_the_results(cli, tmp_path: Path) -> None:
    """``--quiet`` (before or after the command): the summary or JSON, no timing, no 'wrote' line, nothing on stderr."""
    plain = cli("run", BASELINE, "--replicas", "5", "--out", str(tmp_path / "a"))
    quiet = cli("--quiet", "run", BASELINE, "--replicas", "5", "--out", str(tmp_path / "b"))
    assert quiet.returncode == 0 and quiet.stderr == ""
    *summary, blank, timing, wrote = plain.stdout.splitlines()
    assert blank == "" and timing.startswith("(5 negotiations in ") and wrote.startswith("wrote ")
    assert quiet.stdout.splitlines() == summary
    as_json = cli("run", BASELINE, "--replicas", "5", "--json", "-q")
    assert json.loads(as_json.stdout)["replicas"] == 5 and as_json.stderr == ""
    validate = cli("-q", "validate", BASELINE)
    assert validate.returncode == 0 and validate.stdout == ""


def test_verbose_says_what_was_chosen_on_stderr(cli) -> None:
    """``--verbose``: where replicas, seed and rounds came from, and timings, on stderr; stdout unchanged."""
    plain = cli("run", BASELINE, "--replicas", "5", "--json")
    verbose = cli("run", BASELINE, "--replicas", "5", "--json", "--verbose")
    assert verbose.returncode == 0
    assert json.loads(verbose.stdout) == json.loads(plain.stdout)
    assert "replicas 5 (--replicas), seed 20250516 (the scenario), rounds 12 (the scenario)" in verbose.stderr
    both = cli("-q", "-v", "list")
    assert both.returncode == 2 and "--quiet and --verbose cannot be given together" in both.stderr


def test_python_dash_m_sim_is_the_command(cli, repo_root: Path) -> None:
    """``python -m sim`` runs the same command line as ``ceasefire``."""
    env = {k: v for k, v in os.environ.items() if k != "CEASEFIRE_SCENARIOS"}
    for args in (["list"], ["--version"]):
        module = subprocess.run([sys.executable, "-m", "sim", *args], cwd=repo_root, env=env, capture_output=True,
                                text=True, timeout=120, check=False)
        command = cli(*args)
        assert module.returncode == command.returncode == 0, module.stderr
        assert module.stdout == command.stdout and module.stdout
    bad = subprocess.run([sys.executable, "-m", "sim", "run", "no_such_scenario"], cwd=repo_root, env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_gitignore_keeps_run_and_sweep_folders_out(repo_root: Path) -> None:
    """The folders the README's commands write (runs/, sweeps/) are ignored by git."""
    ignored = (repo_root / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert {"runs/", "sweeps/"} <= set(ignored)

def test_run_memory_budget_gives_the_same_summary(cli) -> None:
    """A budget of one replica per block prints the same JSON as the default budget."""
    small = cli("run", BASELINE, "--replicas", "30", "--json", "--memory-budget", "1KiB")
    default = cli("run", BASELINE, "--replicas", "30", "--json")
    assert small.returncode == default.returncode == 0
    assert json.loads(small.stdout) == json.loads(default.stdout)


def test_run_bad_memory_budget(cli) -> None:
    """An unreadable --memory-budget is bad input: exit 2, the option named, no traceback."""
    proc = cli("run", BASELINE, "--replicas", "5", "--memory-budget", "lots")
    assert proc.returncode == 2
    assert "--memory-budget" in proc.stderr and "'lots'" in proc.stderr and "Traceback" not in proc.stderr


def test_run_bad_memory_budget_environment(ceasefire_exe, repo_root: Path) -> None:
    """A bad CEASEFIRE_MEMORY_BUDGET is bad input too, naming the variable."""
    env = {**os.environ, "CEASEFIRE_MEMORY_BUDGET": "-1"}
    proc = subprocess.run([ceasefire_exe, "analyze", BASELINE, "--simulate", "--replicas", "5", "--json"],
                          cwd=repo_root, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2
    assert "CEASEFIRE_MEMORY_BUDGET" in proc.stderr and "Traceback" not in proc.stderr


def _loaded_after(repo_root: Path, commands: list[list[str]], modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` a fresh interpreter has loaded after running ``commands`` through the CLI's main."""
    code = (
        "import sys, contextlib, io, json\n"
        "from sim.cli import main\n"
        f"for argv in {commands!r}:\n"
        "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "        main(argv)\n"
        f"print(json.dumps(sorted(m for m in {modules!r} if m in sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=repo_root, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(proc.stdout.strip())


def test_help_and_list_import_no_engine(repo_root: Path) -> None:
    """`ceasefire --help` and `list` load neither Mesa, pandas nor the experiment schema."""
    commands = [["--help"], ["list"], ["validate", "scenarios/istanbul_2025.yaml"]]
    assert _loaded_after(repo_root, commands, ("mesa", "pandas", "scipy", "sim.inputs.experiment", "sim.engine")) == []


def test_help_imports_no_numpy_nor_schema(repo_root: Path) -> None:
    """`ceasefire --help` and `ceasefire run --help` load neither numpy nor pydantic, YAML or any input module."""
    commands = [["--help"], ["run", "--help"]]
    assert _loaded_after(repo_root, commands, ("numpy", "pydantic", "yaml", "sim.inputs", "sim.results")) == []


THREE_FAULTS = "tests/data/several/three_faults.yaml"
UNTRACED = "tests/data/untraced/assumptions_only.yaml"


def _line_of(path: str, text: str) -> int:
    """The 1-based number of the one line of ``path`` holding ``text``."""
    [number] = [n for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1) if text in line]
    return number


def test_validate_reports_three_faults_at_once(cli) -> None:
    """A bad role, a bad strategy type and a misspelt salience word are listed in one run, each with a hint."""
    proc = cli("validate", THREE_FAULTS)
    assert proc.returncode == 2
    _no_traceback(proc)
    role, strategy, salience = (_line_of(THREE_FAULTS, t) for t in ("beligerent", "time_dependant", "highst"))
    assert sorted(proc.stderr.splitlines()) == sorted(
        [
            f"{THREE_FAULTS}:{strategy}: parties.ukraine.strategy.type: expected one of time_dependent, tit_for_tat, "
            "zeuthen, found 'time_dependant' (did you mean 'time_dependent'?)",
            f"{THREE_FAULTS}:{role}: parties.russia.role: expected one of belligerent, mediator, third_party, "
            "found 'beligerent' (did you mean 'belligerent'?)",
            f"{THREE_FAULTS}:{salience}: parties.ukraine.positions.ceasefire.salience: expected a salience level or a "
            "positive number (low, medium, high, highest), found 'highst' (did you mean 'highest'?)",
        ]
    )


def test_validate_warns_of_evidence_on_another_party(cli) -> None:
    """Evidence on Ukraine cited for Russia's sanctions position is a warning on stderr, and validate exits 0."""
    proc = cli("validate", BASELINE)
    assert proc.returncode == 0
    line = _line_of(BASELINE, "evidence: [ua_sanctions_if_refused]")  # Russia's position, in block style
    expected = (
        f"warning: {BASELINE}:{line}: parties.russia.positions.sanctions_relief.evidence[0]: expected evidence about "
        "'russia' on 'sanctions_relief', found 'ua_sanctions_if_refused' (an entry on party 'ukraine', issue 'sanctions_relief')"
    )
    assert expected in proc.stderr.splitlines()


def test_run_says_how_many_warnings_validate_lists_unless_quiet(cli) -> None:
    """`run` ends with one stderr line counting the warnings `validate` lists (evidence on another party); --quiet drops it."""
    warned = cli("run", BASELINE, "--replicas", "3", "--json")
    assert warned.returncode == 0, warned.stderr
    json.loads(warned.stdout)  # stdout stays one JSON object
    listed = [line for line in cli("validate", BASELINE).stderr.splitlines() if line.startswith("warning: ")]
    assert len(listed) >= 1
    assert warned.stderr.splitlines() == [
        f"warning: {BASELINE}: {len(listed)} warning{'s' if len(listed) > 1 else ''} on its evidence; "
        f"`ceasefire validate {BASELINE}` lists them"
    ]
    quiet = cli("run", BASELINE, "--replicas", "3", "--json", "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == ""
    clean = cli("run", "india_pakistan_2025", "--replicas", "3", "--json")  # no warnings: nothing said
    assert clean.returncode == 0 and clean.stderr == ""


def test_scenario_without_evidence_validates_and_runs(cli) -> None:
    """A scenario of assumptions only (no seed document, no evidence file) validates and runs, saying it has no evidence."""
    validate = cli("validate", UNTRACED)
    assert validate.returncode == 0, validate.stderr
    assert validate.stderr == ""
    assert "no seed document or evidence file" in validate.stdout
    run = cli("run", UNTRACED, "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["evidence"] == "none traceable (no seed document or evidence file: every number is an assumption)"
    summary = cli("run", UNTRACED)
    assert summary.returncode == 0, summary.stderr
    assert "Evidence: none traceable" in summary.stdout.splitlines()[2]


def test_bundled_run_json_has_no_evidence_note(cli) -> None:
    """A scenario with evidence keeps its run JSON as before: no 'evidence' key."""
    proc = cli("run", BASELINE, "--replicas", "5", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "evidence" not in json.loads(proc.stdout)


def test_validate_json_lists_problems_and_warnings_per_file(cli) -> None:
    """`validate --json`: one strict JSON object; a good file ok with its warnings, a bad one with every problem; exit 2."""
    proc = cli("validate", BASELINE, THREE_FAULTS, "--json")
    assert proc.returncode == 2 and proc.stderr == ""
    def refuse(constant: str) -> None:
        raise AssertionError(f"not RFC 8259 JSON: {constant}")

    good, bad = json.loads(proc.stdout, parse_constant=refuse)["files"]
    assert good["ok"] and good["problems"] == [] and good["traceable"]
    assert all(w["field"].startswith("parties.") and w["expected"].startswith("evidence about") for w in good["warnings"])
    assert not bad["ok"] and {p["field"] for p in bad["problems"]} == {
        "parties.russia.role", "parties.ukraine.strategy.type", "parties.ukraine.positions.ceasefire.salience"}
    assert all(isinstance(p["line"], int) for p in bad["problems"])


def test_an_output_the_machine_refuses_is_a_message_not_a_traceback(tmp_path: Path, monkeypatch, capsys) -> None:
    """A full disk or a refused write while `run --out` writes: exit 1, the folder and what to do."""
    import errno

    import sim.results
    from sim.cli.main import main

    for code, advice in ((errno.ENOSPC, "free space on that disk"), (errno.EACCES, "make the folder writable")):
        def refuse(*args, code=code, **kwargs):
            raise OSError(code, os.strerror(code))

        monkeypatch.setattr(sim.results, "write_json", refuse)
        out = tmp_path / f"out{code}"
        assert main(["run", BASELINE, "--replicas", "5", "--out", str(out)]) == 1
        err = capsys.readouterr().err
        assert f"ceasefire run: could not write into {out}" in err and advice in err and "Traceback" not in err
