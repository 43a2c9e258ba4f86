"""The training loop end to end, small: it learns, resumes exactly, logs and writes metrics.json."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from eq_gym.envs.base import task_of
from eq_gym.tasks import PAPER_SETTING
from trainers.checkpoint import CHECKPOINT
from trainers.config import TrainConfig
from trainers.evaluate import evaluate, perfect_forecaster
from trainers.loop import train
from trainers.runlog import EPOCH_TAGS

DESIGN_KEYS = {"variance", "mean", "c95_c5", "mse", "entropy", "agent_regret", "env", "env_kwargs", "algo",
               "q", "beta", "seed", "backbone", "wall_s"}
SMALL_DC = dict(env="EquitablePM-DC-v0", algo="diff", q=1.0, lr=1e-3, backbone="lstm", hidden=16, agents="different", lambdas="different",
                recipe="paper")
SMALL_EV = dict(env="EquitablePM-EV-v0", algo="rloo", q=1.0, lr=3e-3, num_agents=20, recipe="paper")
"""One run at q (the paper's recipe): these tests exercise the loop itself; the path in q has its own (test_61_path)."""


def run(tmp_path: Path, name: str, **kwargs) -> dict:
    return train(TrainConfig(out=tmp_path / name, **kwargs))


def floor_of(settings: dict) -> float:
    """The test mean regret the perfect public forecast leaves (agents paying under their own signals)."""
    task = task_of(settings["env"], "test", TrainConfig(**settings).env_kwargs())
    return float(evaluate(perfect_forecaster(task), task)[1].mean())


@pytest.mark.parametrize("setting", [{}, PAPER_SETTING], ids=["default", "paper"])
def test_diff_lowers_the_test_regret_on_dc(tmp_path, setting):
    """Halves the regret a forecast can remove: above what the perfect public forecast leaves."""
    untrained = run(tmp_path, "dc0", epochs=0, **SMALL_DC, **setting)
    trained = run(tmp_path, "dc3", epochs=3, **SMALL_DC, **setting)
    floor = floor_of(dict(SMALL_DC, **setting))
    assert (floor > 0) == (setting == {})  # own regions: a floor; the paper's setting: none
    assert trained["mean"] - floor < 0.5 * (untrained["mean"] - floor)


@pytest.mark.parametrize("algo", ["spo", "pfy", "forml"])
def test_decision_focused_estimators_lower_the_test_regret_on_ev(tmp_path, algo):
    untrained = run(tmp_path, "ev0", epochs=0, **SMALL_EV)
    trained = run(tmp_path, algo, epochs=2, **{**SMALL_EV, "algo": algo})
    assert trained["mean"] < 0.8 * untrained["mean"], (trained["mean"], untrained["mean"])


def test_rloo_lowers_the_test_regret_on_ev(tmp_path):
    untrained = run(tmp_path, "ev0", epochs=0, **SMALL_EV)
    trained = run(tmp_path, "ev2", epochs=2, **SMALL_EV)
    floor = floor_of(SMALL_EV)
    assert trained["mean"] - floor < 0.7 * (untrained["mean"] - floor), (trained["mean"], untrained["mean"], floor)


def test_diff_is_refused_on_ev_by_name(tmp_path):
    with pytest.raises(ValueError, match="algo .diff..*EV chargers.*use rloo, spo, pfy or pg"):
        run(tmp_path, "refused", epochs=1, **{**SMALL_EV, "algo": "diff"})


@pytest.mark.parametrize("setting", [SMALL_DC, {**SMALL_DC, "q": float("inf"), "weighing": "multiplicative", "weight_step": 1.0},
                                     {**SMALL_EV, "batch_size": 512}, {**SMALL_EV, "batch_size": 512, "algo": "spo", "q": 19.0},
                                     {**SMALL_EV, "batch_size": 1024, "algo": "forml"},
                                     {**SMALL_EV, "batch_size": 1024, "algo": "pfy", "env": "EquitablePM-Mixed-v0", "num_agents": 18}],
                         ids=["dc-diff", "dc-diff-multiplicative-inf", "ev-rloo", "ev-spo", "ev-forml", "mixed-pfy"])
def test_resume_ends_where_an_uninterrupted_run_ends(tmp_path, setting):
    straight = run(tmp_path, "straight", epochs=2, **setting)
    run(tmp_path, "resumed", epochs=1, **setting)
    resumed = run(tmp_path, "resumed", epochs=2, resume=True, **setting)
    a = torch.load(tmp_path / "straight" / CHECKPOINT, weights_only=True)
    b = torch.load(tmp_path / "resumed" / CHECKPOINT, weights_only=True)
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name
    assert a["estimator"]["scale"] == b["estimator"]["scale"]
    assert_same_state(a["estimator"]["weighing"], b["estimator"]["weighing"])  # the agents' weighing too
    assert {k: straight[k] for k in EPOCH_TAGS} == {k: resumed[k] for k in EPOCH_TAGS}


def assert_same_state(a: dict, b: dict) -> None:
    """Equal nested state dicts, tensors bit for bit."""
    assert a.keys() == b.keys()
    for key, value in a.items():
        if isinstance(value, dict):
            assert_same_state(value, b[key])
        elif isinstance(value, torch.Tensor):
            assert torch.equal(value, b[key]), key
        else:
            assert value == b[key], key


def test_init_starts_from_a_finished_run_and_excess_weighs_above_its_regret(tmp_path):
    start = run(tmp_path, "start", epochs=1, **SMALL_DC)
    at_start = run(tmp_path, "at-start", epochs=0, init=tmp_path / "start", **SMALL_DC)
    assert at_start["agent_regret"] == start["agent_regret"]  # the same model, scored again
    setting = {**SMALL_DC, "q": 4.0, "weighing": "excess", "init": tmp_path / "start"}
    straight = run(tmp_path, "straight", epochs=2, **setting)
    run(tmp_path, "resumed", epochs=1, **setting)
    resumed = run(tmp_path, "resumed", epochs=2, resume=True, **setting)
    a, b = (torch.load(tmp_path / name / CHECKPOINT, weights_only=True) for name in ("straight", "resumed"))
    assert_same_state(a["estimator"]["weighing"], b["estimator"]["weighing"])
    assert straight["agent_regret"] == resumed["agent_regret"]
    reference = a["estimator"]["weighing"]["reference"].numpy()
    assert reference == pytest.approx(start["train_agent_regret"])  # the start's training-split regret
    assert straight["init"] == str(tmp_path / "start") and straight["weighing"] == "excess"
    with pytest.raises(ValueError, match="weighing='excess' weighs each agent's regret above a reference model's"):
        run(tmp_path, "no-reference", epochs=1, **{**SMALL_DC, "weighing": "excess"})
    with pytest.raises(ValueError, match=r"--init .* was made with other settings \(agents: 'different' -> 'similar'"):
        run(tmp_path, "other-task", epochs=1, **{**SMALL_DC, "agents": "similar", "init": tmp_path / "start"})


def test_keep_best_gives_the_lowest_of_the_start_and_each_epoch_on_the_runs_own_training_objective(tmp_path):
    from trainers.evaluate import evaluate_run

    start = run(tmp_path, "start", epochs=1, **SMALL_DC)
    setting = {**SMALL_DC, "init": tmp_path / "start", "keep": "best"}
    ruined = run(tmp_path, "ruined", epochs=2, **{**setting, "lr": 10.0})  # a step this long wrecks the model
    assert ruined["kept_epoch"] == 0 and ruined["agent_regret"] == start["agent_regret"]  # the start is given
    assert ruined["train_objective"] == pytest.approx(start["train_objective"])
    assert all(h["train_objective"] > 10 * start["train_objective"] for h in ruined["history"])
    run(tmp_path, "ruined-resumed", epochs=1, **{**setting, "lr": 10.0})
    resumed = run(tmp_path, "ruined-resumed", epochs=2, resume=True, **{**setting, "lr": 10.0})
    assert resumed["kept_epoch"] == 0 and resumed["agent_regret"] == start["agent_regret"]  # the checkpoint carried it
    trained = run(tmp_path, "trained", epochs=2, **setting)
    scores = [start["train_objective"]] + [h["train_objective"] for h in trained["history"]]
    assert trained["train_objective"] == pytest.approx(min(scores))
    assert trained["train_objective"] == pytest.approx(scores[trained["kept_epoch"]])
    assert evaluate_run(tmp_path / "trained")["agent_regret"] == trained["agent_regret"]  # what the run gives, scored again


def test_resume_refuses_other_settings(tmp_path):
    run(tmp_path, "a", epochs=1, **SMALL_DC)
    with pytest.raises(ValueError, match=r"other settings \(q: 1.0 -> 3.0\)"):
        run(tmp_path, "a", epochs=2, resume=True, **{**SMALL_DC, "q": 3.0})


def test_sweeps_reuse_a_finished_run_only_when_it_was_made_with_the_same_settings(tmp_path):
    from trainers.studies.sweep import train_once

    config = TrainConfig(out=tmp_path / "a", epochs=1, progress=False, **SMALL_EV)
    first = train_once(config)
    stamp = (tmp_path / "a" / CHECKPOINT).stat().st_mtime_ns
    assert train_once(config) == first and (tmp_path / "a" / CHECKPOINT).stat().st_mtime_ns == stamp  # reused, not retrained
    with pytest.raises(ValueError, match=r"\(a finished run\) was made with other settings \(score: 'local' -> 'sampled'\)"):
        train_once(TrainConfig(out=tmp_path / "a", epochs=1, progress=False, score="sampled", **SMALL_EV))
    with pytest.raises(ValueError, match=r"other settings \(epochs: 1 -> 2\)"):  # a longer run is another run
        train_once(TrainConfig(out=tmp_path / "a", epochs=2, progress=False, **SMALL_EV))


def documented_tags() -> set[str]:
    """The tags docs/trainers.md's TensorBoard table names."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "trainers.md").read_text()
    table = text.split("## TensorBoard", 1)[1].split("\n## ", 1)[0]
    return {name for line in table.splitlines() if line.startswith("| `") for name in re.findall(r"`([a-z_]+/[a-z_0-9]+)`", line)}


def test_run_folder_has_metrics_tensorboard_tags_and_checkpoint(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    metrics = run(tmp_path, "logged", epochs=1, keep="best", **SMALL_EV)  # keep best: its tag too
    folder = tmp_path / "logged"
    written = json.loads((folder / "metrics.json").read_text())
    assert DESIGN_KEYS <= set(written) and written == metrics
    assert len(written["agent_regret"]) == 20 and written["env_kwargs"]["num_agents"] == 20
    events = EventAccumulator(str(folder), size_guidance={"histograms": 0, "scalars": 0}).Reload()
    logged = set(events.Tags()["scalars"]) | set(events.Tags()["histograms"])
    documented = documented_tags() - {"charts/validation_objective"}  # --validation's (test_63_selection)
    assert logged == documented, logged ^ documented  # every documented tag written, none undocumented
    assert {f"charts/{k}" for k in EPOCH_TAGS} <= logged and "charts/agent_regret" in events.Tags()["histograms"]
    assert (folder / CHECKPOINT).is_file()


def test_beta_moves_the_model_in_the_power_mean_form(tmp_path):
    """In the paper's form at large q, L_q dwarfs beta * MSE; the power-mean form keeps beta meaningful."""
    setting = {**SMALL_EV, "q": 39.0, "form": "power_mean", "steps": 5}
    heads, mse = [], []
    for beta in (0.0, 0.8):
        mse.append(run(tmp_path, f"beta{beta}", beta=beta, **setting)["mse"])
        heads.append(torch.load(tmp_path / f"beta{beta}" / CHECKPOINT, weights_only=True)["model"]["head.weight"])
    assert not torch.equal(*heads)
    assert mse[1] < mse[0]  # the MSE term pulls the forecast towards the truth (test split)


@pytest.mark.parametrize("regrets", [[float("nan"), 1.0], [float("nan"), float("nan")]])
def test_an_epoch_of_a_diverged_model_is_logged_without_a_histogram_of_nans(tmp_path, regrets):
    """What a step too long (e.g. --lr 10) leaves: NaN regrets; the epoch's scalars are still written."""
    from trainers.runlog import RunLog

    log = RunLog(tmp_path, enabled=True)
    log.epoch({tag: float("nan") for tag in EPOCH_TAGS}, np.array(regrets), 1)
    log.close()
    assert list(tmp_path.glob("events.out.tfevents.*"))
