"""The interactive page, in Mesa's convention (``SolaraViz``): pick a scenario, change its
numbers, step or play the talks, and watch each agenda group's status, the convergence and
utility-space charts and the evidence behind every party's numbers.

SolaraViz holds the model (a ``PageModel``) and gives the sidebar: play, step, reset and
the scenario's controls; the page lays out its cards at full width beside it. Needs the
``app`` extra; ``ceasefire app`` serves it. Bad files and impossible settings are
messages on the page, never tracebacks.
"""

from __future__ import annotations

import html
import os
import urllib.parse
import warnings
from collections.abc import Callable

import solara
import solara.lab

from sim.app import DEFAULT_SCENARIO, SCENARIO_ENV
from sim.app.controls import model_params
from sim.app.session import PageModel, evidence_rows, html_table, scenario_choices, status_rows

with warnings.catch_warnings():
    # Mesa's own ComponentsView has a hook after an early return, which solara's checker
    # reports on import; harmless (this page passes it no components) and not ours to fix
    warnings.filterwarnings("ignore", message=r"(?s).*ComponentsView", category=UserWarning)
    from mesa.visualization import SolaraViz
    from mesa.visualization.utils import force_update, update_counter

TABLE_STYLE = (
    "<style>.cf-table{border-collapse:collapse;width:100%;font-size:14px}"
    ".cf-table th,.cf-table td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}"
    ".cf-table th{background:#f3f3f3}</style>"
)
SEE_STATUS = "see the message under Agenda status"
PAGE_STYLE = ".cf-stale{opacity:0.6} .cf-help{font-size:13px} .cf-help li{margin-bottom:4px}"
"""A chart still showing the round before (while the new one is drawn) is dimmed."""
CONTROLS_HELP = (
    ("Step", "plays the next round of talks (Render Interval rounds at a time)."),
    ("\u25b6 / \u275a\u275a", "plays round after round until the talks end, or pauses."),
    ("Play Interval (ms)", "the pause between two rounds while playing."),
    ("Render Interval (steps)", "rounds played per Step, and between two redraws of the page while playing (1: every round)."),
    ("Use Threads", "while playing, redraw the page beside the talks rather than after each round: faster play, "
     "the page may skip rounds."),
    ("Reset", "starts the talks again with the Model Parameters below."),
)
"""What each of Mesa's controls (the Controls card) does here."""


def _text(heading: str, *paragraphs: str) -> None:
    """A heading and paragraphs of plain (escaped) text."""
    parts = [f"<h3>{html.escape(heading)}</h3>"] + [f"<p>{html.escape(p)}</p>" for p in paragraphs if p]
    solara.HTML(unsafe_innerHTML="".join(parts))


def overview(model: PageModel) -> None:
    """The scenario's question, parties, issues and agenda."""
    if model.loaded is None:
        solara.Info(f"No scenario: {SEE_STATUS}.")
        return
    s = model.loaded.scenario
    _text(s.title, f"Question: {s.question}", " ".join(s.description.split()))
    parties = [
        {"party": p.name, "role": p.role.replace("_", " "), "positions on": ", ".join(p.positions) or "-"}
        for p in s.parties.values()
    ]
    group_of = {issue: group for group, members in s.agenda.items() for issue in members}
    issues = [
        {"issue": name, "agenda group": group_of.get(name, "-"), "range": f"{i.range[0]:g} to {i.range[1]:g} {i.units}",
         "meaning": i.description}
        for name, i in s.issues.items()
    ]
    solara.HTML(unsafe_innerHTML=TABLE_STYLE + html_table(parties, "cf-parties") + "<br>" + html_table(issues, "cf-issues"))


def status(model: PageModel) -> None:
    """Each agenda group's status, with a button that runs the talks to the deadline; or
    the message why nothing runs."""

    def run_to_end() -> None:
        model.run_to_end()
        force_update()

    if model.loaded is not None:
        s = model.loaded.scenario
        _text(s.title, f"Question: {s.question}")
    solara.HTML(unsafe_innerHTML="<h4>Agenda status</h4>")
    if model.negotiation is None:
        solara.Error(f"This scenario cannot run with these settings: {model.error}", classes=["cf-error"])
        return
    run = model.negotiation.batch
    protocol = run.protocol.replace("_", " ")
    settings = f"{run.replicas} replicas, seed {run.labels.seed}, {protocol}, deadline after {run.rounds} rounds"
    solara.HTML(unsafe_innerHTML=html.escape(settings), classes=["cf-settings"])
    solara.HTML(unsafe_innerHTML=f"Rounds played: {model.negotiation.steps} of {model.negotiation.rounds}", classes=["cf-round"])
    solara.Button("Run to the deadline", on_click=run_to_end, disabled=not model.running, color="primary",
                  classes=["cf-run-to-end"])
    solara.HTML(unsafe_innerHTML=TABLE_STYLE + html_table(status_rows(model.negotiation), "cf-status-table"))


@solara.component
def ChartImage(name: str, model: PageModel, played: int) -> None:  # noqa: N802 (solara components are named like classes)
    """The chart ``name`` of the running negotiation, drawn on a thread (``PageModel.charts``):
    a step shows its status at once and the chart when drawn; meanwhile the chart of the
    round before stays, dimmed. Steps faster than the drawing skip rounds (only the
    newest is drawn next). The image's class ``cf-chart-round-N`` names the round it shows,
    and ``cf-chart-prepared`` says round 1's frame is drawn ahead (``LiveChart.prepare``);
    ``played``, the rounds played, redraws the component after each step."""
    negotiation = model.negotiation
    assert negotiation is not None
    drawn = solara.use_thread(
        lambda: (negotiation, *model.charts[name].png(negotiation)),
        dependencies=[negotiation, played],
        intrusive_cancel=False,
    )
    # once round 0 is shown, lay out the chart round 1 will draw (LiveChart.prepare)
    opening = drawn.value is not None and drawn.value[0] is negotiation and drawn.value[1] == 0
    prepared = solara.use_thread(
        lambda: opening and model.charts[name].prepare(negotiation),
        dependencies=[negotiation, opening],
        intrusive_cancel=False,
    )
    if drawn.error is not None:
        solara.Error(f"The chart could not be drawn: {drawn.error}")
    elif drawn.value is None:
        solara.Text("Drawing the chart...")
    else:
        shown, at, image = drawn.value
        stale = [] if shown is negotiation and at == played else ["cf-stale"]
        ahead = ["cf-chart-prepared"] if opening and prepared.value is True else []  # round 1 is drawn ahead
        solara.Image(image, format="png", classes=["cf-chart", f"cf-chart-round-{at}", *stale, *ahead])


def chart(name: str) -> Callable[[PageModel], None]:
    """A card showing the chart ``name`` of ``PageModel.charts``."""

    def show(model: PageModel) -> None:
        if model.negotiation is None:
            solara.Info(f"No chart: {SEE_STATUS}.")
        else:
            ChartImage(name, model, model.negotiation.steps)

    return show


def evidence(model: PageModel) -> None:
    """Per party, the quotes (with their line in the seed document) behind its numbers."""
    if model.loaded is None:
        solara.Info(f"No evidence: {SEE_STATUS}.")
        return
    loaded = model.loaded
    s = loaded.scenario
    parts = [
        TABLE_STYLE,
        "<h3>Evidence</h3>",
        f"<p>Quotes from {html.escape(s.seed_document)}, each with its line there; numbers no quote supports say so "
        "as assumptions.</p>"
        if s.seed_document is not None
        else "<p>No traceable evidence: the scenario has no seed document, and every number in it is an assumption.</p>",
    ]
    for key, party in s.parties.items():
        parts += [f"<h4>{html.escape(party.name)}</h4>", html_table(evidence_rows(loaded, key), "cf-evidence-table")]
    solara.HTML(unsafe_innerHTML="".join(parts))


CARDS: dict[str, Callable[[PageModel], None]] = {
    "status": status,
    "convergence": chart("convergence"),
    "utility-space": chart("utility-space"),
    "scenario": overview,
    "evidence": evidence,
}
"""Each card of the page: a function of the page's model drawing solara elements."""


@solara.component
def Card(name: str, model: PageModel, live: bool = True) -> None:  # noqa: N802 (solara components are named like classes)
    """One card; a ``live`` one is redrawn after every step (Mesa's update counter)."""
    if live:
        update_counter.get()
    with solara.Card(classes=[f"cf-{name}"]):
        CARDS[name](model)


@solara.component
def Session(source: str) -> None:  # noqa: N802
    """SolaraViz over a ``PageModel`` of ``source`` at its documented values, and the cards."""
    initial = solara.use_memo(lambda: PageModel(source), [])
    model: solara.Reactive[PageModel] = solara.use_reactive(initial)
    loaded = initial.loaded
    params = model_params(loaded.scenario, source) if loaded is not None else {"source": source}
    SolaraViz(model, components=[], model_params=params, name="ceasefire-sim: talks round by round")
    with solara.Column(), solara.lab.Tabs(lazy=True):  # a hidden tab draws nothing
        with solara.lab.Tab("Talks"):
            for name in ("status", "convergence", "utility-space"):
                Card(name, model.value)
        with solara.lab.Tab("Scenario and evidence"):
            for name in ("scenario", "evidence"):
                Card(name, model.value, live=False)  # documented values: the same after every step


def _link(label: str) -> str:
    """The page's address for a scenario: loading it starts a fresh session."""
    return "?" + urllib.parse.urlencode({"scenario": label})


@solara.component
def Page() -> None:  # noqa: N802
    """The page: links to each scenario above SolaraViz's controls. Each link (and the one
    back to the documented values) loads the page afresh, so every control shows what the
    new model runs."""
    choices = solara.use_memo(scenario_choices, [])
    given = os.environ.get(SCENARIO_ENV)
    first = next(iter(choices), DEFAULT_SCENARIO) if given or DEFAULT_SCENARIO not in choices else DEFAULT_SCENARIO
    asked = urllib.parse.parse_qs(solara.use_router().search or "").get("scenario", [first])[0]
    label = asked if asked in choices else first
    solara.Style(PAGE_STYLE)
    with solara.Sidebar(), solara.Card("Scenario"):
        if asked != label:
            solara.Warning(f"No scenario {asked!r} here; showing {label}.")
        for choice in choices:
            solara.Button(choice, href=_link(choice), text=choice != label, outlined=choice == label, color="primary",
                          small=True, classes=["cf-scenario-link"])
        solara.Text("Change the settings under Model Parameters, then press RESET to start the talks with them.")
        solara.Button("Documented values", href=_link(label), color="secondary", classes=["cf-documented"])
    with solara.Sidebar(), solara.Card("The controls below", classes=["cf-help"]):
        items = "".join(f"<li><b>{html.escape(name)}</b>: {html.escape(what)}</li>" for name, what in CONTROLS_HELP)
        solara.HTML(unsafe_innerHTML=f"<ul>{items}</ul>")
    Session(choices.get(label, label))
