"""Stopping and resuming: a real SIGINT or SIGTERM ends a run after its update, and --resume continues it exactly."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from trainers import checkpoint
from trainers.cli import main

RUN = ["train", "--env", "EquitablePM-DC-v0", "--timing", "shared", "--algo", "diff", "--backbone", "lstm", "--hidden", "8", "--batch-size", "8",
       "--recipe", "paper", "--no-progress"]  # shared timing: contexts drawn from a seeded stream that a resume must pick up


def interrupted_run(out: Path, number: int) -> subprocess.CompletedProcess:
    """``eqpm train`` for 50 epochs in a subprocess, sent ``number`` once it has started training."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    process = subprocess.Popen([sys.executable, "-m", "trainers.cli", *RUN, "--epochs", "50", "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while not list(out.glob("events.out.tfevents.*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # some updates into the first epoch (1,700 updates of about 1 ms)
    process.send_signal(number)
    stdout, stderr = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.mark.parametrize("number, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_after_the_update_with_one_line_and_a_checkpoint_to_resume(tmp_path, number, code):
    stopped = interrupted_run(tmp_path / "run", number)
    assert stopped.returncode == code, stopped.stderr
    lines = stopped.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("eqpm: stopped after update") and "--resume" in lines[0]
    state = checkpoint.read(tmp_path / "run" / checkpoint.CHECKPOINT)
    assert state["epoch"] == 0 and 0 < state["step"] < 1700 and "generator" in state["streams"]


def test_resuming_inside_an_epoch_ends_where_an_uninterrupted_run_ends(tmp_path):
    stopped = interrupted_run(tmp_path / "resumed", signal.SIGINT)
    assert stopped.returncode == 130, stopped.stderr
    assert checkpoint.read(tmp_path / "resumed" / checkpoint.CHECKPOINT)["epoch"] == 0
    assert main([*RUN, "--epochs", "1", "--out", str(tmp_path / "resumed"), "--resume"]) == 0
    assert main([*RUN, "--epochs", "1", "--out", str(tmp_path / "straight")]) == 0
    resumed = checkpoint.read(tmp_path / "resumed" / checkpoint.CHECKPOINT)["model"]
    straight = checkpoint.read(tmp_path / "straight" / checkpoint.CHECKPOINT)["model"]
    assert all(torch.equal(resumed[k], straight[k]) for k in straight)


def test_a_finished_run_resumed_says_so_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*RUN, "--epochs", "1", "--steps", "5", "--out", str(out)]) == 0
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert main([*RUN, "--epochs", "1", "--steps", "5", "--out", str(out), "--resume"]) == 0
    assert "is a finished run" in capsys.readouterr().out
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_a_run_stopped_before_its_first_checkpoint_is_taken_over_by_the_next(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "events.out.tfevents.1.host.1.0").write_bytes(b"")  # what a crash in the first epoch leaves
    assert main([*RUN, "--epochs", "1", "--steps", "5", "--out", str(out), "--resume"]) == 0
    assert "starting afresh" in capsys.readouterr().out
    assert not (out / "events.out.tfevents.1.host.1.0").exists() and (out / checkpoint.CHECKPOINT).is_file()


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGKILL])
def test_a_signal_to_a_sweeps_driver_alone_stops_its_workers_and_keeps_their_checkpoints(tmp_path, number):
    """As a scheduler stops a job: SIGTERM to the driver only (or SIGKILL, when it has no more patience). Before,
    the pool workers ran on after the driver exited."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    out = tmp_path / "sweep"
    process = subprocess.Popen([sys.executable, "-m", "trainers.cli", "bench", "q", "--env", "EquitablePM-DC-v0", "--algo",
                                "diff", "--q-plus-one", "1", "--seeds", "2", "--epochs", "50", "--jobs", "2", "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 180
    while len(list(out.glob("*/events.out.tfevents.*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = [pid for pid in children_of(process.pid) if "spawn" in Path(f"/proc/{pid}/cmdline").read_text()]
    assert len(workers) >= 2, "the sweep's two workers had not started"
    time.sleep(1.0)  # some updates in
    process.send_signal(number)
    _, stderr = process.communicate(timeout=120)  # the workers hold its stderr: it ends when they have
    if number == signal.SIGTERM:
        assert process.returncode == 143 and "sweep stopped by signal" in stderr, stderr
    time.sleep(0.5)
    assert not [pid for pid in workers if alive(pid)]
    assert len(list(out.glob("*/" + checkpoint.CHECKPOINT))) >= 2  # each running run checkpointed after its update
