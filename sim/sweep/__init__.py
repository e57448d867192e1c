"""Parameter sweeps: experiment files, designs, local and dask execution with resumable
shards, per-point results, sensitivity indices and charts.

"""

from sim.inputs.experiment import LoadedExperiment, load_experiment
from sim.sweep.results import load_results, load_runs
from sim.sweep.run import SweepReport, run_sweep

__all__ = ["LoadedExperiment", "SweepReport", "load_experiment", "load_results", "load_runs", "run_sweep"]
