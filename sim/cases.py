"""Real cases beside the model: each case's scenario run, the model's agreement rate and
mean terms per agenda group set beside what happened, and every face-validity criterion
judged right or wrong; the report as a Markdown table. Reading case files is
``sim.inputs.case``; printing and the command are ``sim.cli.cases``.
"""

from __future__ import annotations

from typing import Any

from sim.engine.model import run_scenario
from sim.inputs.case import Case, Criterion, LoadedCase
from sim.inputs.scenario import with_overrides
from sim.results import format_number, summary

TABLE_START = "<!-- cases-table:start -->"
TABLE_END = "<!-- cases-table:end -->"
"""The markers between which ``replace_table`` writes the table in a README."""


def _percent(share: float) -> str:
    return f"{100 * share:.1f}%"


def criterion_text(criterion: Criterion, case: Case) -> str:
    """A criterion as a person reads it.

    Examples
    --------
    >>> from sim.inputs.case import Criterion
    >>> criterion_text(Criterion(group="security", rate="<= 0.1"), None)
    'security agreed in <= 10.0% of replicas'
    """
    if criterion.kind == "rate":
        op, value = criterion.bound()
        return f"{criterion.group} agreed in {op} {_percent(value)} of replicas"
    if criterion.kind == "round":
        op, value = criterion.bound()
        return f"{criterion.group}: mean agreement round {op} {value:g}"
    term = case.happened[criterion.group].terms[str(criterion.term)]
    return f"{criterion.group}: mean agreed {criterion.term} within {format_number(term.value)} ± {format_number(term.tolerance)}"


def _holds(op: str, observed: float, bound: float) -> bool:
    # summaries round to 6 decimals: a share of exactly the bound counts as meeting it
    return observed >= bound - 1e-9 if op == ">=" else observed <= bound + 1e-9


def judge(case: Case, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every criterion of ``case`` judged against a run summary ``data`` (as
    ``sim.results.summary`` makes it): text, group, kind, the observed value (None where
    nothing agreed to measure) and ``right``.

    A rate criterion reads the group's ``agreement_rate``; a term criterion its
    ``mean_outcome`` of the issue, within the tolerance of what happened; a round
    criterion its ``mean_round``. No agreement leaves a term or round criterion wrong.
    """
    verdicts = []
    for criterion in case.criteria:
        group = data["groups"][criterion.group]
        observed: float | None
        if criterion.kind == "rate":
            op, bound = criterion.bound()
            observed = group["agreement_rate"]
            right = _holds(op, float(group["agreement_rate"]), bound)
        elif criterion.kind == "round":
            op, bound = criterion.bound()
            observed = group["mean_round"]
            right = observed is not None and _holds(op, float(observed), bound)
        else:
            term = case.happened[criterion.group].terms[str(criterion.term)]
            observed = group["mean_outcome"].get(str(criterion.term))
            right = observed is not None and abs(float(observed) - term.value) <= term.tolerance + 1e-9
        verdicts.append(
            {
                "text": criterion_text(criterion, case),
                "group": criterion.group,
                "kind": criterion.kind,
                "observed": observed,
                "right": bool(right),
                "note": criterion.note,
            }
        )
    return verdicts


def _happened(case: Case) -> dict[str, Any]:
    return {
        group: {
            "agreed": record.agreed,
            "terms": {issue: {"value": t.value, "tolerance": t.tolerance} for issue, t in record.terms.items()},
            "round": None if record.round is None else {"value": record.round.value, "tolerance": record.round.tolerance},
            "note": record.note,
        }
        for group, record in case.happened.items()
    }


def report_case(loaded: LoadedCase, data: dict[str, Any]) -> dict[str, Any]:
    """One case's report from its run summary ``data``: what happened and what the model
    says per group, the verdicts and their counts."""
    case = loaded.case
    verdicts = judge(case, data)
    happened = _happened(case)
    groups = {}
    for name, group in data["groups"].items():
        groups[name] = {
            "issues": group["issues"],
            "units": group["units"],
            "happened": happened[name],
            "model": {
                "agreement_rate": group["agreement_rate"],
                "agreement_rate_ci95": group["agreement_rate_ci95"],
                "mean_round": group["mean_round"],
                "mean_outcome": group["mean_outcome"],
                **({"never_opened_rate": group["never_opened_rate"]} if "never_opened_rate" in group else {}),
            },
        }
    right = sum(v["right"] for v in verdicts)
    return {
        "case": loaded.name,
        "title": case.title,
        "date": case.date.isoformat(),
        "scenario": data["scenario"],
        "replicas": data["replicas"],
        "seed": data["seed"],
        "rounds": data["rounds"],
        "groups": groups,
        "criteria": verdicts,
        "right": right,
        "wrong": len(verdicts) - right,
        "needs": list(case.needs),
        "sources": list(case.sources),
    }


def run_case(loaded: LoadedCase, *, replicas: int | None = None) -> dict[str, Any]:
    """Run a case's scenario (its own replicas and seed unless ``replicas`` is given) and report it."""
    scenario = with_overrides(loaded.scenario, replicas=replicas)
    return report_case(loaded, summary(run_scenario(scenario)))


def run_cases(cases: list[LoadedCase], *, replicas: int | None = None) -> dict[str, Any]:
    """Every case run and reported, in date order, with the totals of right and wrong criteria."""
    reports = [run_case(c, replicas=replicas) for c in sorted(cases, key=lambda c: (c.case.date, c.name))]
    return {
        "cases": reports,
        "right": sum(r["right"] for r in reports),
        "wrong": sum(r["wrong"] for r in reports),
        "cases_all_right": sum(r["wrong"] == 0 for r in reports),
    }


def happened_text(record: dict[str, Any]) -> str:
    """What happened to a group, in a few words: ``agreed: districts 1`` or ``not agreed``."""
    if not record["agreed"]:
        return "not agreed"
    terms = ", ".join(f"{issue} {format_number(t['value'])}" for issue, t in record["terms"].items())
    text = "agreed" + (f": {terms}" if terms else "")
    return text + (f" (round {record['round']['value']:g})" if record["round"] is not None else "")


def model_text(group: dict[str, Any]) -> str:
    """What the model says of a group: rate with its 95% interval, mean round, mean terms."""
    model = group["model"]
    lo, hi = model["agreement_rate_ci95"]
    text = f"{_percent(model['agreement_rate'])} ({100 * lo:.1f}–{100 * hi:.1f}%)"
    if "never_opened_rate" in model:  # a phased group: talks that never began are not talks that failed
        text += f", never opened in {_percent(model['never_opened_rate'])}"
    if model["mean_round"] is None:
        return text
    terms = ", ".join(f"{issue} {format_number(v)}" for issue, v in model["mean_outcome"].items())
    return f"{text}, round {model['mean_round']:.1f}; {terms}"


def _verdict(verdict: dict[str, Any]) -> str:
    return "right" if verdict["right"] else "wrong"


def markdown(report: dict[str, Any]) -> str:
    """The report as the README's table, one row per agenda group, then what the model
    would need for every case with a wrong criterion."""
    lines = [
        "| case | date | group | what happened | model: agreed (95% CI), mean round; mean terms | criteria |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in report["cases"]:
        for name, group in r["groups"].items():
            verdicts = [v for v in r["criteria"] if v["group"] == name]
            judged = "; ".join(f"{v['text'].removeprefix(name).lstrip(': ')}: **{_verdict(v)}**" for v in verdicts) or "-"
            cells = [r["case"], r["date"], name, happened_text(group["happened"]), model_text(group), judged]
            lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        f"{report['right']} of {report['right'] + report['wrong']} criteria right; "
        f"{report['cases_all_right']} of {len(report['cases'])} cases right on every criterion."
    )
    wrong = [r for r in report["cases"] if r["wrong"]]
    if wrong:
        heading = "What the model would need for the cases it gets wrong (each case file's `needs`, written after its first run):"
        lines += ["", heading, ""]
        for r in wrong:
            needs = " ".join(r["needs"]) or "(not yet stated in the case file)"
            lines.append(f"- **{r['case']}**: {needs}")
    return "\n".join(lines) + "\n"


def replace_table(text: str, table: str) -> str:
    """``text`` with everything between ``TABLE_START`` and ``TABLE_END`` replaced by ``table``.

    Raises ``ValueError`` when the markers are missing or out of order.

    Examples
    --------
    >>> replace_table(f"a\\n{TABLE_START}\\nold\\n{TABLE_END}\\nb", "new\\n")
    'a\\n<!-- cases-table:start -->\\nnew\\n<!-- cases-table:end -->\\nb'
    """
    start, end = text.find(TABLE_START), text.find(TABLE_END)
    if start < 0 or end < start:
        raise ValueError(f"a '{TABLE_START}' line and, after it, a '{TABLE_END}' line")
    head = text[: start + len(TABLE_START)]
    return f"{head}\n{table}{text[end:]}"
