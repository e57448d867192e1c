# %% [markdown]
# # Your first hour with ceasefire-sim
#
# This tutorial runs the Istanbul baseline, reads its summary, changes one number, runs a
# small sweep and reads a chart, all through the public API (`import sim`). It is a
# plain Python script in jupytext's percent format: run it with `python first_hour.py`
# from any folder, or open it as a notebook with jupytext. It writes `convergence.png`
# into the folder it runs in and the sweep into a temporary folder. It takes about
# ten seconds.
#
# You need the package installed (`pip install -e .` in a clone); nothing else.

# %%
import tempfile
from pathlib import Path

import pandas as pd

import sim
from sim.errors import InputError

pd.set_option("display.width", 120)
pd.set_option("display.max_columns", 12)

# %% [markdown]
# ## 1. Run the baseline
#
# `sim.load_scenario` takes a bundled scenario's name (or the path of a scenario file),
# reads it, validates it and checks its evidence: every position cites a quote and its
# line in the seed report of the Istanbul talks of 16 May 2025. Each scenario asks one
# question.

# %%
base = sim.load_scenario("istanbul_2025")
print(base.scenario.title)
print(base.scenario.question)

# %% [markdown]
# `sim.run` simulates it: 200 negotiations (replicas), each with its own draws of the
# uncertain numbers (saliences, ideal points, win beliefs, whether a threat is carried
# out), from the seed 1. The same seed gives the same result, byte for byte, on any
# machine.

# %%
baseline = sim.run(base, replicas=200, seed=1)
print(baseline.groups)

# %% [markdown]
# ## 2. Read the summary
#
# `result.groups` has one row per agenda group, the parts of the talks that can be
# agreed separately. Here the *humanitarian* group (the prisoner exchange) and the
# *security* group (ceasefire, territory, neutrality, sanctions relief).
#
# - `agreement_rate`: the share of the 200 replicas that agreed before the deadline
#   (12 rounds of talks), with `ci95_low` and `ci95_high` its Wilson 95% interval;
# - `agreed`: how many replicas that is;
# - `mean_round`: when they agreed on average (rounds count from 1).
#
# The exchange is agreed in every replica, nearly all (194 of 200) in the first two rounds;
# the security group in 8% (16 of 200), and only at the very end. That is what happened in Istanbul: a
# 1,000-for-1,000 prisoner exchange and no ceasefire.
#
# `result.replicas` has one row per (replica, group): whether it agreed, in which round
# and on what terms, in each issue's natural units (NaN where it did not agree).

# %%
replicas = baseline.replicas
exchange = replicas[(replicas["group"] == "humanitarian") & replicas["agreed"]]
print(exchange["prisoner_exchange"].describe())

# %% [markdown]
# The agreed exchange is about 1,000 prisoners per side. The rare security deals
# scatter: the terms below differ from replica to replica, a sign that they are luck
# rather than a stable compromise.

# %%
deals = replicas[(replicas["group"] == "security") & replicas["agreed"]]
terms = ["ceasefire", "territory", "neutrality", "sanctions_relief"]
print(deals[["replica", "round", *terms]].head(8))

# %% [markdown]
# ## 3. Change one number
#
# In the baseline the UK and EU threaten Russia with energy and bank sanctions (0.1 off
# its war payoff from round 6 unless the security group is agreed) with a credibility of
# 0.3. `sim.set_values` sets numbers by their path in the scenario, the same paths that
# sweeps use, and checks the changed scenario as a file is checked. Make the threat
# almost certain:

# %%
threat = sim.set_values(base, {"events.sanctions.credibility": 0.9})
threatened = sim.run(threat, replicas=200, seed=1)
comparison = pd.DataFrame(
    {
        "baseline": baseline.groups["agreement_rate"],
        "credibility 0.9": threatened.groups["agreement_rate"],
    }
)
print(comparison)

# %% [markdown]
# The ceasefire becomes likelier (from 8% to 16%), and earlier, as theory says a credible
# threat should (it lowers the threatened side's war payoff and so widens the bargaining
# range), but it stays far from half the runs. With the same seed, replica r of both
# runs drew the same saliences, ideals and beliefs: the difference comes from the
# credibility, not from luck.
#
# A misspelt path, or a value the scenario cannot take, is an error
# (`sim.errors.InputError`) that names the field, what was expected and what was found;
# nothing is silently ignored or clipped:

# %%
for bad in ({"events.sanctions.credibilty": 0.9}, {"events.sanctions.credibility": 1.5}):
    try:
        sim.set_values(base, bad)
    except InputError as error:
        print(error)

# %% [markdown]
# ## 4. Run a sweep
#
# One number changed by hand is a comparison; many values are a sweep. An experiment file
# names a base scenario, the numbers to vary, a design, the replicas per point and a
# seed. Write a tiny one into a temporary folder: the sanctions' credibility at four
# values, 200 replicas each.

# %%
folder = Path(tempfile.mkdtemp(prefix="first-hour-"))
experiment = folder / "credibility.yaml"
experiment.write_text(
    """\
name: credibility
question: How credible must the sanctions threat be to move the ceasefire?
scenario: istanbul_2025
parameters:
  events.sanctions.credibility:
    values: [0.0, 0.3, 0.6, 0.9]
    label: Sanctions credibility
design: grid
replicas: 200
seed: 1
""",
    encoding="utf-8",
)
report = sim.run_sweep(experiment, folder / "sweep", workers=1)
print(f"{report.points} points, {report.runs} runs in {report.out}")

# %% [markdown]
# `workers=1` runs in this process; by default a small sweep does too (below 200,000
# runs, starting worker processes costs more than it saves) and a larger one uses every core;
# `scheduler="tcp://..."` sends it to a dask cluster. Results are the same either way.
# `sim.load_sweep` gives one row per design point: its parameters, the agreement rate of
# each group (`agreed.GROUP`) with its Wilson interval (`.lo`, `.hi`), the mean agreement
# round (`round.GROUP`) and the mean agreed terms (`outcome.GROUP.ISSUE`).

# %%
table = sim.load_sweep(folder / "sweep")
columns = ["events.sanctions.credibility", "replicas", "agreed.security"]
print(table[[*columns, "agreed.security.lo", "agreed.security.hi"]])

# %% [markdown]
# The rate rises steadily with credibility, and never nears half. The points at 0.3 and
# 0.9 are the two runs above, replica for replica: a sweep draws replica r of every point
# from the same streams as `sim.run` with the same seed.
#
# A sweep writes each finished chunk of runs to disk. Running it again into the same
# folder computes only what is missing: here, nothing.

# %%
again = sim.run_sweep(experiment, folder / "sweep", workers=1)
print(f"runs computed the second time: {again.runs_now}")

# %% [markdown]
# ## 5. Read a chart
#
# `result.convergence_chart(path)` draws, per agenda group, how the talks moved round by
# round, and writes it as PNG.

# %%
baseline.convergence_chart("convergence.png")
print("wrote", Path("convergence.png").resolve())

# %% [markdown]
# Open `convergence.png`. Each panel is an agenda group; the x axis is the round of talks.
# For each party (Ukraine blue, Russia red), over the replicas still negotiating:
#
# - the solid line is its utility of its own offer (1 = its ideal outcome): how much it
#   still demands;
# - the dashed line is its utility of the other side's offer: what it is offered;
# - the dotted line is its war payoff, the value of walking away. A party accepts an
#   offer only if the dashed line reaches its dotted line.
#
# The grey step (right axis) is the share of replicas agreed so far. In the humanitarian
# panel it reaches 97% by round 2. In the security panel Ukraine concedes steadily
# (its solid line falls from round 1), Russia holds out until round 7 and then concedes
# fast (a "Boulware" strategy), and the lines still do not cross: by the deadline
# Russia is offered about 0.3 and its war is worth about 0.5 to it, so in most replicas
# there is no deal. The few agreements come in the last rounds.
#
# Where to go next: the how-to guides (a scenario of your own, sweeps on a cluster,
# sensitivity indices, the interactive page) and the explanation of the model.
