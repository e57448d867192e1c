"""The page's model and what the page shows of it: a scenario with a student's settings run
round by round, each agenda group's status, the evidence behind each party's numbers, and
the convergence and utility-space charts of the rounds played so far.

Nothing here imports solara; ``sim.app.page`` lays these out.
"""

from __future__ import annotations

import html
import os
import threading
from pathlib import Path
from typing import Any

import mesa
import numpy as np
from matplotlib.figure import Figure

from sim.app import DEFAULT_SCENARIO, SCENARIO_ENV
from sim.app.controls import WHERE, apply_settings
from sim.app.live import LiveChart
from sim.charts.negotiation import model_convergence
from sim.charts.opening import model_opening
from sim.charts.utility_space import model_utility_space
from sim.engine import NegotiationModel, compile_batch
from sim.errors import InputError, Problem
from sim.inputs import Basis, LoadedScenario, load_scenario
from sim.inputs.catalogue import resolve_scenario, scenario_dirs
from sim.results import format_number, summary


def scenario_choices() -> dict[str, str]:
    """Scenario label to file: the one ``ceasefire app`` was given (``SCENARIO_ENV``), then
    the bundled ones (``sim.inputs.catalogue.scenario_dirs``)."""
    choices: dict[str, str] = {}
    given = os.environ.get(SCENARIO_ENV)
    if given:
        choices[Path(given).stem] = str(Path(given).resolve())
    for folder in scenario_dirs():
        for path in sorted(folder.glob("*.yaml")):
            resolved = str(path.resolve())
            if resolved not in choices.values():
                choices[path.stem if path.stem not in choices else resolved] = resolved
    return choices


def html_table(rows: list[dict[str, str]], css_class: str) -> str:
    """An HTML table of rows sharing their keys, every cell escaped.

    Examples
    --------
    >>> html_table([{"group": "a<b", "status": "open"}], "t")
    '<table class="cf-table t"><tr><th>group</th><th>status</th></tr><tr><td>a&lt;b</td><td>open</td></tr></table>'
    """
    head = "".join(f"<th>{html.escape(key)}</th>" for key in rows[0]) if rows else ""
    body = "".join("<tr>" + "".join(f"<td>{html.escape(value)}</td>" for value in row.values()) + "</tr>" for row in rows)
    return f'<table class="cf-table {css_class}"><tr>{head}</tr>{body}</table>'


try:
    from mesa.experimental.scenarios import Scenario as _MesaScenario

    MESA_SCENARIO: tuple[type, ...] = (_MesaScenario,)
except ImportError:  # Mesa before 3.4: no scenarios, and SolaraViz passes none
    MESA_SCENARIO = ()
"""Mesa's scenario class, where this Mesa has one (SolaraViz 3.5 passes an instance on Reset)."""


def mesa_settings(rng: Any, scenario: Any, settings: dict[str, Any]) -> dict[str, Any]:
    """The page settings a model is given the way Mesa gives them: the parameters of Mesa's
    ``scenario`` (any other than its ``rng``) under the keyword ``settings``, and the seed
    from ``rng``, else from the scenario's rng, where one is given.

    Raises
    ------
    InputError
        For a ``scenario`` that is not a Mesa scenario (a file or bundled name goes in
        ``source``), an ``rng`` other than the scenario's, or a ``seed`` setting other than the rng.

    Examples
    --------
    >>> mesa_settings(5, None, {"replicas": "3"})
    {'replicas': '3', 'seed': 5}
    >>> mesa_settings(None, None, {"seed": "9"})
    {'seed': '9'}
    """
    if scenario is None:
        given: dict[str, Any] = {}
    elif hasattr(scenario, "rng"):  # Mesa's Scenario: rng and its parameters as (name, value) pairs
        given = {key: value for key, value in dict(scenario).items() if key != "rng"}
    else:
        raise InputError(
            [Problem(WHERE, None, "scenario", "a Mesa scenario (a file or bundled name goes in source)", repr(scenario))]
        )
    scenario_rng = getattr(scenario, "rng", None)
    if rng is not None and scenario_rng is not None and scenario_rng != rng:  # as mesa.Model checks them
        found = f"{rng!r} and scenario.rng {scenario_rng!r}"
        raise InputError([Problem(WHERE, None, "rng", "the scenario's rng or none", found)])
    merged = {**given, **settings}
    seed = seed_of(rng if rng is not None else scenario_rng)
    if seed is not None:
        if "seed" in merged and str(merged["seed"]).strip() != str(seed):
            found = f"seed {merged['seed']!r} and rng {seed}"
            raise InputError([Problem(WHERE, None, "seed", "either the seed setting or Mesa's rng, not both", found)])
        merged["seed"] = seed
    return merged


def seed_of(rng: Any) -> int | None:
    """The negotiation's seed from a Mesa ``rng`` argument: an integer as it is, any other
    seed or generator ``numpy.random.default_rng`` takes as one integer drawn from it, None as None.

    Examples
    --------
    >>> seed_of(7), seed_of(None)
    (7, None)
    >>> import numpy as np
    >>> seed_of(np.random.SeedSequence(7)) == seed_of(np.random.SeedSequence(7))
    True
    """
    if rng is None or isinstance(rng, int | np.integer):
        return None if rng is None else int(rng)
    return int(np.random.default_rng(rng).integers(np.iinfo(np.int32).max))


class PageModel(mesa.Model):
    """What the page runs: the scenario ``source`` (a file or a bundled name) with the
    settings ``**kwargs`` (keys of ``sim.app.controls.controls``) as a ``NegotiationModel``,
    or, when the file or a setting is bad, the message saying why (``error``).

    Mesa's SolaraViz builds it from its ``model_params`` on every reset; it never raises
    for bad input, so the page shows the message instead of a traceback. It takes what Mesa
    passes a model (``mesa_settings``): ``rng``, as ``mesa.batch_run`` gives one per
    iteration, seeds the negotiation (as the ``seed`` setting does); ``scenario``, a Mesa
    scenario as SolaraViz 3.5 passes on Reset, gives its ``rng`` likewise and its other
    parameters as settings. ``datacollector`` records, at the start and after each step,
    the rounds played, each agenda group's share of replicas agreed, and the error.
    ``charts`` holds the page's charts of the negotiation (``sim.app.live.LiveChart``,
    by card name); they and the steps share ``lock``, so a chart may be drawn on a thread.

    Examples
    --------
    >>> model = PageModel("istanbul_2025", replicas=20)
    >>> model.run_to_end()
    >>> model.negotiation.steps <= 12, model.error
    (True, None)
    >>> print(PageModel("istanbul_2025", seed="x").error)
    page settings: seed: expected a whole number, found 'x'
    >>> PageModel("istanbul_2025", rng=7, replicas=2).negotiation.batch.labels.seed
    7
    """

    def __init__(self, source: str = DEFAULT_SCENARIO, *, rng: Any = None, scenario: Any = None, **kwargs: Any) -> None:
        # the settings must be called kwargs: Mesa 3.3's SolaraViz takes no other name for them
        loaded, negotiation, error = None, None, None
        try:
            settings = mesa_settings(rng, scenario, kwargs)
            loaded = load_scenario(resolve_scenario(source))
            negotiation = NegotiationModel(compile_batch(apply_settings(loaded, settings)))
        except InputError as err:
            error = str(err)
        # Mesa's own generator (the page draws nothing from it): from Mesa's scenario where
        # it takes one, else seeded as the negotiation is, so model.scenario.rng is its seed
        if isinstance(scenario, MESA_SCENARIO):
            super().__init__(scenario=scenario)
        else:
            super().__init__(rng=negotiation.batch.labels.seed if negotiation is not None else rng)
        self.source = source
        self.loaded: LoadedScenario | None = loaded
        self.negotiation: NegotiationModel | None = negotiation
        self.error: str | None = error
        self.running = negotiation is not None
        self.lock = threading.Lock()
        self.charts = {name: LiveChart(draw, self.lock, AHEAD.get(name)) for name, draw in CHARTS.items()}
        reporters: dict[str, Any] = {
            "round": lambda m: m.negotiation.steps if m.negotiation is not None else 0,
            "error": lambda m: m.error,
        }
        for i, group in enumerate(self.loaded.scenario.agenda if self.loaded is not None else ()):  # the engine's order
            reporters[f"agreed_{group}"] = (
                lambda m, i=i: float((m.negotiation.agreed_round[i] >= 0).mean()) if m.negotiation is not None else 0.0
            )
        self.datacollector = mesa.DataCollector(model_reporters=reporters)
        self.datacollector.collect(self)

    def step(self) -> None:
        """One round of talks; nothing once the talks have ended (or never started)."""
        if self.negotiation is None or not self.negotiation.running:
            self.running = False
        else:
            with self.lock:
                self.negotiation.step()
            self.running = self.negotiation.running
        self.datacollector.collect(self)

    def run_to_end(self) -> None:
        """Step until every group agreed in every replica or the deadline passed."""
        while self.running:
            self.step()


def status_rows(model: NegotiationModel) -> list[dict[str, str]]:
    """One row per agenda group: its issues, its status after the rounds played, and the
    agreed terms in natural units (their mean over agreed replicas when R > 1).

    Examples
    --------
    >>> from sim.inputs import load_scenario, with_overrides
    >>> model = NegotiationModel(compile_batch(with_overrides(load_scenario("istanbul_2025"), replicas=1)))
    >>> [row["status"] for row in status_rows(model)]
    ['open (no round played yet)', 'open (no round played yet)']
    >>> model.run_model()
    >>> status_rows(model)[0]["status"], status_rows(model)[0]["terms"]
    ('agreed in round 1', 'prisoner_exchange: 1,000 prisoners per side')
    """
    data = summary(model)
    replicas = model.batch.replicas
    played = model.steps
    ended = not model.running
    rows = []
    for name, group in data["groups"].items():
        n = group["agreed"]
        still_open = replicas - n
        if replicas == 1:
            status = f"agreed in round {group['mean_round']:g}" if n else ""
        elif n:
            status = f"agreed in {n} of {replicas} replicas ({100 * n / replicas:.0f}%), mean round {group['mean_round']:.1f}"
        else:
            status = ""
        if still_open:
            if ended:
                lack = f"no agreement by the deadline (round {played})"
            else:
                lack = f"open after round {played}" if played else "open (no round played yet)"
            if status:  # some replicas agreed, the rest did not (yet)
                lack = f"{still_open} {'with ' if ended else 'still '}{lack}"
            status = f"{status}; {lack}" if status else lack
        if n:
            mean = " (mean over agreements)" if replicas > 1 else ""
            terms = ", ".join(
                f"{issue}: {format_number(value)} {group['units'][issue]}" for issue, value in group["mean_outcome"].items()
            )
            terms += mean
        else:
            terms = "-"
        rows.append({"agenda group": name, "issues": ", ".join(group["issues"]), "status": status, "terms": terms})
    return rows


def _blocks(loaded: LoadedScenario, key: str) -> list[tuple[str, Basis]]:
    """Each block of numbers about party ``key``, described, with its basis."""
    s = loaded.scenario
    party = s.parties[key]
    out: list[tuple[str, Basis]] = []
    for issue, pos in party.positions.items():
        units = s.issues[issue].units
        out.append((f"{issue}: ideal {format_number(pos.ideal)} {units}, salience {pos.salience}", pos))
    if party.war is not None:
        w = party.war
        out.append((f"war: believed chance of winning {w.win_probability:g}, cost {w.cost:g}, {w.cost_per_round:g} per round", w))
    if party.strategy is not None:
        st = party.strategy
        out.append((f"strategy: {st.type} (e = {st.e:g}), patience {st.patience:g}", st))
    for red in party.red_lines:
        out.append((f"red line on {red.issue} at {format_number(red.limit)}: audience cost {red.cost:g}", red))
    for com in party.commitments:
        relief = f", relieved by {com.relieved_by} at {com.relieved_at:g}" if com.relieved_by else ""
        out.append((f"commitment problem on {com.issue}: penalty {com.penalty:g}{relief}", com))
    for event in s.events:
        if key in event.by:
            change = ", ".join(f"{s.parties[t].name} {v:+g}" for t, v in event.targets.items())
            when = f"from round {event.from_round + 1}"
            out.append((f"{event.type} '{event.name}' {when}: {change}, credibility {event.credibility:g}", event))
    return out


def evidence_rows(loaded: LoadedScenario, key: str) -> list[dict[str, str]]:
    """The evidence behind party ``key``'s numbers: per block, each cited quote with its
    line in the seed document, and the block's stated assumption, if any.

    Examples
    --------
    >>> loaded = load_scenario("istanbul_2025")
    >>> row = evidence_rows(loaded, "ukraine")[0]
    >>> row["numbers"], row["evidence"], row["line"]
    ('prisoner_exchange: ideal 1,000 prisoners per side, salience high', 'both_prisoner_exchange', '5')
    """
    rows = []
    for numbers, basis in _blocks(loaded, key):
        for ref in basis.evidence:
            entry = loaded.evidence.get(ref, {})
            line, quote = str(entry.get("line", "")), str(entry.get("quote", ""))
            rows.append({"numbers": numbers, "evidence": ref, "line": line, "quote": quote})
        if basis.assumption:
            rows.append({"numbers": numbers, "evidence": "assumption", "line": "", "quote": " ".join(basis.assumption.split())})
    return rows


def convergence(model: NegotiationModel) -> Figure:
    """The convergence chart of the rounds played so far, live (its frame the same from round
    to round); before the first, the opening positions (each side's best outcome, the other
    side's and war: ``sim.charts.opening``)."""
    return model_convergence(model, live=True) if model.steps else model_opening(model)


def utility_space(model: NegotiationModel) -> Figure:
    """The utility space of the model's first replica: candidates, Pareto frontier, the war
    payoffs of the last round played, the bargaining solutions they imply, and the offers
    on the table so far; live (its legends the same from round to round)."""
    p = model.batch
    after = f"after round {model.steps}" if model.steps else "before round 1"
    view = f"of replica 1 of {p.replicas}, war payoffs {after}" if p.replicas > 1 else f"war payoffs {after}"
    return model_utility_space(model, round_=max(model.steps - 1, 0), view=view, live=True)


def convergence_ahead(model: NegotiationModel) -> Figure | None:
    """Before the first round, the live convergence chart with no round in it yet: the frame
    round 1 draws its data over (``live_frame``: the same axes from round 0 on), so the
    page can lay it out while round 0 is shown; None once a round is played."""
    return None if model.steps else model_convergence(model, live=True)


CHARTS = {"convergence": convergence, "utility-space": utility_space}
"""The page's charts by card name: each a function of the running ``NegotiationModel``."""
AHEAD = {"convergence": convergence_ahead}
"""Charts whose next round's frame can be drawn ahead (``LiveChart.prepare``), by card name."""
