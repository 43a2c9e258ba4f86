"""torchrun (gloo, CPU): two processes end where one process ends, and only rank 0 writes."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from eq_gym.objective import equitable_objective
from eq_gym.tasks import contexts_generator, make_task
from trainers.checkpoint import CHECKPOINT
from trainers.config import TrainConfig
from trainers.loop import train

ROOT = Path(__file__).resolve().parents[1]
DC = ["--env", "EquitablePM-DC-v0", "--algo", "diff", "--q", "2", "--lr", "1e-3", "--backbone", "lstm", "--hidden", "16",
      "--agents", "different", "--lambdas", "different", "--batch-size", "512", "--weighing", "multiplicative", "--recipe", "paper"]
# EV: a few large steps (3 per epoch). Its regret is piecewise constant, so over many steps a 1e-7 difference in
# summation order can flip a slot choice and grow; a few steps keep the comparison at float tolerance.
EV = ["--env", "EquitablePM-EV-v0", "--algo", "rloo", "--q", "2", "--lr", "3e-3", "--num-agents", "20", "--batch-size", "4096",
      "--recipe", "paper"]
PATH = [*EV[:-2], "--rung-epochs", "1", "--rungs", "2", "inf", "--q", "inf", "--width", "16"]
"""The equitable learner on EV: 1 epoch at q = 0, then rungs at q + 1 = 2 and inf (3 epochs of 3 steps)."""
TRANSFORMER = ["--backbone", "transformer", "--d-model", "16", "--heads", "2"]
"""DC runs the LSTM, EV rloo the Transformer (its key bias kept at 0 makes it end alike), the others the default MLP."""


def cli_config(args: list[str], out: Path, epochs: int) -> TrainConfig:
    from trainers.cli import config_from, parser

    return config_from(parser().parse_args(["train", *args, "--epochs", str(epochs), "--out", str(out), "--no-progress"]))


def torchrun(args: list[str], out: Path, epochs: int, resume: bool = False) -> None:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "trainers.cli", "train", *args, "--epochs", str(epochs), "--out", str(out), "--no-progress"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command + (["--resume"] if resume else []), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def swap(args: list[str], **changes: str) -> list[str]:
    args = list(args)
    for flag, value in changes.items():
        args[args.index("--" + flag.replace("_", "-")) + 1] = value
    return args


@pytest.mark.slow
@pytest.mark.parametrize("args", [DC, EV + TRANSFORMER, swap(EV, algo="spo", q="19"), swap(EV, algo="pfy"), swap(EV, algo="forml")],
                         ids=["dc-diff-multiplicative", "ev-rloo", "ev-spo", "ev-pfy", "ev-forml"])
def test_two_processes_end_where_one_process_ends_and_resume_under_torchrun(tmp_path, args):
    torch.set_num_threads(1)
    single = train(cli_config(args, tmp_path / "one", epochs=2))
    torchrun(args, tmp_path / "two", epochs=1)
    torchrun(args, tmp_path / "two", epochs=2, resume=True)
    a = torch.load(tmp_path / "one" / CHECKPOINT, weights_only=True)["model"]
    b = torch.load(tmp_path / "two" / CHECKPOINT, weights_only=True)["model"]
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-4, atol=1e-5, msg=name)
    weighing = [torch.load(tmp_path / run / CHECKPOINT, weights_only=True)["estimator"]["weighing"] for run in ("one", "two")]
    for key in ("log_weight",) if "--weighing" in args else ():  # every rank weighed the agents by the global batch
        torch.testing.assert_close(weighing[0][key], weighing[1][key], rtol=1e-6, atol=1e-9)
    assert np.isclose(single["mean"], __import__("json").loads((tmp_path / "two" / "metrics.json").read_text())["mean"], rtol=1e-4)
    folder = tmp_path / "two"
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith("events")) == [CHECKPOINT, "metrics.json"]
    writers = {p.name.split(".")[-2] for p in folder.glob("events.out.tfevents.*")}  # ...<host>.<pid>.<n>
    assert len(writers) == 2  # one process per launch (run, then resume): rank 1 wrote nothing


@pytest.mark.slow
def test_two_processes_climb_the_path_in_q_where_one_process_climbs_it(tmp_path):
    """Every rank takes the same kept iterate at each rung's start (each scores it), so the ranks stay one model."""
    torch.set_num_threads(1)
    single = train(cli_config(PATH, tmp_path / "one", epochs=1))
    torchrun(PATH, tmp_path / "two", epochs=1)
    a = torch.load(tmp_path / "one" / CHECKPOINT, weights_only=True)
    b = torch.load(tmp_path / "two" / CHECKPOINT, weights_only=True)
    assert a["rung"] == b["rung"] == 2 and len(single["path"]) == 3
    for name in a["model"]:
        torch.testing.assert_close(a["model"][name], b["model"][name], rtol=1e-4, atol=1e-5, msg=name)
    two = __import__("json").loads((tmp_path / "two" / "metrics.json").read_text())
    assert [r["kept_epoch"] for r in two["path"]] == [r["kept_epoch"] for r in single["path"]]


def test_averaging_each_ranks_own_objective_is_a_different_objective():
    """What plain DDP averaging would optimise: the mean of per-rank L_q, not L_q of the global batch."""
    task = make_task("dc", agents="different", lambdas="different")
    windows = task.windows
    forecast = torch.tensor(windows.targets[:512] + 0.7).requires_grad_()
    contexts = task.population.sampler(512, contexts_generator(0)).draw(torch.tensor(windows.start[:512])).contexts
    regret = task.population.regret(forecast, torch.tensor(windows.targets[:512]), contexts)
    q = 2.0
    global_objective = equitable_objective(regret.mean(dim=1), q)
    per_rank = 0.5 * sum(equitable_objective(part.mean(dim=1), q) for part in regret.split(256, dim=1))
    (exact,) = torch.autograd.grad(global_objective, forecast, retain_graph=True)
    (naive,) = torch.autograd.grad(per_rank, forecast)
    assert per_rank.item() > global_objective.item() * (1 + 1e-3)  # Jensen: the per-rank mean overstates L_q
    assert float((exact - naive).norm() / exact.norm()) > 1e-3  # far beyond the tolerance of the test above
