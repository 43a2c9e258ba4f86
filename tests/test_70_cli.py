"""eqpm: the real command, tiny; its options agree with the config, the registry and the docs."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from eq_gym.tasks import make_task
from trainers.cli import main, parser
from trainers.config import DEFAULT_NETWORK, TrainConfig
from trainers.estimators import ESTIMATORS

ROOT = Path(__file__).resolve().parents[1]


def eqpm(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "trainers.cli", *args], capture_output=True, text=True, cwd=ROOT)


def test_train_help_lists_every_config_field():
    text = eqpm("train", "--help").stdout
    for field in dataclasses.fields(TrainConfig):
        assert "--" + field.name.replace("_", "-") in text, field.name


def test_algo_choices_are_the_registry_and_each_is_documented():
    train = parser()._subparsers._group_actions[0].choices["train"]
    algo = next(a for a in train._actions if a.dest == "algo")
    assert tuple(algo.choices) == tuple(ESTIMATORS)
    docs = (ROOT / "docs" / "trainers.md").read_text()
    for name in ESTIMATORS:
        assert f"`{name}`" in docs, name


def test_epochs_zero_evaluates_the_untrained_model(tmp_path):
    done = eqpm("train", "--env", "EquitablePM-EV-v0", "--algo", "mse", "--epochs", "0", "--out", str(tmp_path / "r"))
    assert done.returncode == 0, done.stderr
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["epochs"] == 0 and metrics["algo"] == "mse" and metrics["backbone"] == DEFAULT_NETWORK["EquitablePM-EV-v0"]["backbone"]
    again = eqpm("evaluate", "--run", str(tmp_path / "r"))
    assert again.returncode == 0 and f"mean={metrics['mean']:.6g}" in again.stdout


@pytest.mark.parametrize(
    "args, reason",
    [
        (["train", "--env", "EquitablePM-EV-v0", "--algo", "diff", "--epochs", "1"], "algo 'diff'"),
        (["train", "--env", "EquitablePM-DC-v0", "--beta", "1.5", "--algo", "diff", "--epochs", "1"], "beta=1.5"),
        (["train", "--env", "EquitablePM-DC-v0", "--resume"], "no checkpoint"),
        (["evaluate", "--forecaster", "vendor", "--env", "EquitablePM-EV-v0"], "Use it on EquitablePM-DC-v0"),
        (["evaluate"], "either --run DIR"),
        (["evaluate", "--forecaster", "persistence_daily"], "needs --env"),
        (["evaluate", "--run", "somewhere", "--env", "EquitablePM-EV-v0"], "--env is the env of --forecaster"),
        (["train", "--env", "EquitablePM-DC-v0", "--algo", "spo", "--epochs", "1"], "it would run diff's code"),
        (["train", "--env", "EquitablePM-DC-v0", "--algo", "pfy", "--epochs", "1"], "it would run diff's code"),
        (["train", "--env", "EquitablePM-EV-v0", "--lambdas", "different", "--epochs", "1"], "lambdas='different' is not a keyword"),
        (["train", "--env", "EquitablePM-EV-v0", "--q", "inf", "--form", "paper", "--epochs", "1"], "q=inf is not allowed in the paper form"),
        (["train", "--env", "EquitablePM-EV-v0", "--q", "-1", "--epochs", "1"], "q=-1.0 is not allowed"),
        (["train", "--algo", "mse", "--weighing", "running", "--epochs", "1"], "--weighing running is not used by algo 'mse'"),
        (["train", "--algo", "spo", "--weighing", "excess", "--epochs", "1"], "give --init RUN"),
        (["train", "--algo", "spo", "--init", "nowhere", "--epochs", "1"], "--init nowhere: no checkpoint.pt there"),
    ],
)
def test_a_refused_combination_exits_2_with_one_line(tmp_path, args, reason, capsys):
    assert main([*args, *(["--out", str(tmp_path / "x")] if args[0] == "train" else [])]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("eqpm: error:") and reason in err and "\n" not in err


@pytest.mark.parametrize("env_id", ["EquitablePM-DC-v0", "EquitablePM-EV-v0", "EquitablePM-Mixed-v0"])
def test_each_env_page_carries_the_envs_docstring(env_id):
    sys.path.insert(0, str(ROOT / "docs"))
    from build_env_pages import docstring

    assert docstring(env_id) in (ROOT / "docs" / "envs" / f"{env_id}.md").read_text()


def test_train_help_lists_every_algorithm_with_one_line():
    text = eqpm("train", "--help").stdout
    listed = text.split("algorithms (--algo):")[1].strip().splitlines()
    assert [line.split(" -- ")[0].strip() for line in listed] == list(ESTIMATORS)


def test_an_out_that_is_a_file_or_holds_another_run_is_refused(tmp_path, capsys):
    afile = tmp_path / "notes.txt"
    afile.write_text("x")
    args = ["train", "--env", "EquitablePM-DC-v0", "--algo", "mse", "--epochs", "0"]
    assert main([*args, "--out", str(afile)]) == 2
    assert "is a file" in capsys.readouterr().err
    assert main([*args, "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    capsys.readouterr()
    assert main([*args, "--out", str(tmp_path / "run"), "--seed", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "holds another run" in err and "--resume" in err and "\n" not in err


def test_a_resumed_run_says_so_and_from_which_epoch(tmp_path, capsys):
    args = ["train", "--env", "EquitablePM-DC-v0", "--algo", "mse", "--backbone", "lstm", "--hidden", "8", "--out", str(tmp_path / "r"),
            "--recipe", "paper", "--no-progress"]
    assert main([*args, "--epochs", "1"]) == 0
    capsys.readouterr()
    assert main([*args, "--epochs", "2", "--resume"]) == 0
    steps = make_task("dc").num_windows // 128  # the updates of one epoch
    assert f"resuming {tmp_path / 'r'} after {steps} of {2 * steps} updates (epoch 2, step 0)" in capsys.readouterr().out


def test_threads_sets_torchs_intra_op_threads_and_refuses_zero(capsys):
    import torch

    before = torch.get_num_threads()
    try:
        assert main(["evaluate", "--forecaster", "persistence_daily", "--env", "EquitablePM-DC-v0", "--threads", "2"]) == 0
        assert torch.get_num_threads() == 2
        assert main(["evaluate", "--forecaster", "persistence_daily", "--threads", "0"]) == 2
        assert "--threads 0 is not allowed" in capsys.readouterr().err
    finally:
        torch.set_num_threads(before)


def test_evaluate_refuses_env_keywords_with_a_run_and_help_reads_cleanly(tmp_path, capsys):
    assert main(["evaluate", "--run", str(tmp_path), "--agents", "different"]) == 2
    assert "a --run is scored on the env and keywords it was trained with" in capsys.readouterr().err
    train_help = " ".join(parser()._subparsers._group_actions[0].choices["train"].format_help().split())
    assert "(default: None)" not in train_help and "see `eqpm train --help`" not in train_help
    assert "any number >= 0, or inf" in train_help
    reproduce_help = " ".join(parser()._subparsers._group_actions[0].choices["reproduce"].format_help().split())
    assert "ev/beta: 2, mixed: 1" in reproduce_help and "bootstrap interval" in reproduce_help and "±" not in reproduce_help
    board_help = " ".join(parser()._subparsers._group_actions[0].choices["benchmark"].format_help().split())
    assert "default: mse diff pg rloo learner ppo a2c;" in board_help and "hyperparameters.py" in board_help
    tune_help = " ".join(parser()._subparsers._group_actions[0].choices["tune"].format_help().split())
    assert "training split" in tune_help and "{ppo,a2c,sac}" in tune_help


def test_help_loads_no_torch_and_the_registry_names_its_classes():
    """eqpm --help starts fast because it imports neither torch nor the data; every lazy entry is the class named."""
    probe = "import sys, trainers.cli; trainers.cli.parser().format_help(); print(sorted({'torch', 'pandas'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT).stdout.strip() == "[]"
    assert all(ESTIMATORS[name].name == name for name in ESTIMATORS)
    from trainers.estimators import WEIGHINGS

    assert all(WEIGHINGS[name].name == name for name in WEIGHINGS)
