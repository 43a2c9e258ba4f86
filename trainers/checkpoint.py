"""Checkpoints: written atomically each epoch, read back by ``--resume``.

A checkpoint holds the model, the optimiser, the scheduler, the RNG states,
the epochs done and the config. It is written to a temporary file and moved
over the old one (``os.replace``), so a crash never leaves a torn file.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

CHECKPOINT = "checkpoint.pt"
RESUMABLE_CHANGES = {"epochs", "resume", "device", "out", "progress"}
"""Config fields that may differ between a run and its resumption."""


def rng_states() -> dict[str, Any]:
    states = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict[str, Any]) -> None:
    random.setstate(states["python"])
    np.random.set_state(states["numpy"])
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


RUN_FILES = (CHECKPOINT, "metrics.json")
"""Files that mark a folder as holding a run."""


def check_out(folder: Path, resume: bool) -> None:
    """Refuse an ``--out`` that is a file, or a folder holding another run when not resuming."""
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"--out {folder} is a file; give a folder for the run (it is created if missing)")
    if resume or not folder.is_dir():
        return
    held = [name for name in RUN_FILES if (folder / name).exists()] + [p.name for p in folder.glob("events.out.tfevents.*")][:1]
    if held:
        raise ValueError(f"--out {folder} holds another run ({', '.join(held)}); continue it with --resume or give a new --out")


def save(folder: Path, state: dict[str, Any]) -> Path:
    """Write ``state`` to ``folder/checkpoint.pt`` atomically."""
    path = folder / CHECKPOINT
    temporary = path.with_suffix(".pt.tmp")
    torch.save(state, temporary)
    os.replace(temporary, path)
    return path


def load(folder: Path, config: dict[str, Any]) -> dict[str, Any]:
    """Read ``folder/checkpoint.pt``, refusing one made with another config."""
    path = folder / CHECKPOINT
    if not path.is_file():
        raise ValueError(f"--resume: no checkpoint at {path}; start the run without --resume")
    state = torch.load(path, map_location="cpu", weights_only=False)
    refuse_other_settings(state["config"], config, f"--resume: {path}")
    return state


def made_with(folder: Path) -> dict[str, Any]:
    """The config of the run in ``folder`` (from its checkpoint)."""
    return torch.load(folder / CHECKPOINT, map_location="cpu", weights_only=False)["config"]


def refuse_other_settings(made: dict[str, Any], asked: dict[str, Any], what: str,
                          may_differ: set[str] = RESUMABLE_CHANGES) -> None:
    """Raise unless a run made with ``made`` is the run ``asked`` for, up to the fields ``may_differ``.

    A field the run's config lacks (made by an older version) counts as changed.
    """
    changed = {k for k in asked if k not in may_differ and made.get(k) != asked[k]}
    if changed:
        details = ", ".join(f"{k}: {made.get(k)!r} -> {asked[k]!r}" for k in sorted(changed))
        raise ValueError(f"{what} was made with other settings ({details}); use a new --out")
