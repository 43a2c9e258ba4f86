"""Checkpoints: written atomically each epoch, read back by ``--resume``.

A checkpoint holds the model, the optimiser, the scheduler, the RNG states,
the epochs done and the config, as tensors and plain values only, so it is
read with ``torch.load(weights_only=True)``: a run folder from someone else
(a shared run, a sweep that reuses a folder, ``eqpm evaluate --run``) cannot
execute code it holds. A file that needs more than that is refused with a
message naming the risk. It is written to a temporary file, flushed to disk
(fsync), moved over the old one (``os.replace``) and the folder's entry
flushed too, so neither a crash nor a power loss leaves a torn or empty file.
"""

from __future__ import annotations

import os
import pickle
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from trainers.config import PAPER_BACKBONE, RUNGS
from trainers.records import METRICS_FILE

CHECKPOINT = "checkpoint.pt"
RESUMABLE_CHANGES = {"epochs", "resume", "device", "out", "progress"}
"""Config fields that may differ between a run and its resumption."""


def rng_states() -> dict[str, Any]:
    """Python's, numpy's and torch's RNG states as tensors and plain values (loadable with weights_only)."""
    version, words, gauss = random.getstate()
    kind, keys, position, has_gauss, cached = np.random.get_state()
    states = {
        "python": {"version": version, "words": torch.tensor(words, dtype=torch.int64), "gauss": gauss},
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "position": int(position),
                  "has_gauss": int(has_gauss), "cached": float(cached)},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict[str, Any]) -> None:
    python, numpy = states["python"], states["numpy"]
    random.setstate((python["version"], tuple(python["words"].tolist()), python["gauss"]))
    np.random.set_state((numpy["kind"], numpy["keys"].numpy().astype(np.uint32), numpy["position"],
                         numpy["has_gauss"], numpy["cached"]))
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


RUN_FILES = (CHECKPOINT, METRICS_FILE)
"""Files that mark a folder as holding a run."""


def check_out(folder: Path, resume: bool) -> bool:
    """Whether to resume: refuse an ``--out`` that is a file, or a folder holding another run when not
    resuming; take over (saying so) a folder whose run stopped before its first checkpoint."""
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"--out {folder} is a file; give a folder for the run (it is created if missing)")
    if not folder.is_dir():
        if resume:
            raise ValueError(f"--resume: no checkpoint ({folder} does not exist); start the run without --resume")
        return False
    held = [name for name in RUN_FILES if (folder / name).exists()]
    events = list(folder.glob("events.out.tfevents.*"))
    if not held and events:  # a run that stopped before writing anything to resume from
        for path in events:
            path.unlink(missing_ok=True)
        print(f"{folder} held only the TensorBoard events of a run stopped before its first checkpoint; starting afresh there")
        return False
    if not resume and held:
        raise ValueError(f"--out {folder} holds another run ({', '.join(held)}); continue it with --resume or give a new --out")
    if resume and CHECKPOINT not in held:
        raise ValueError(f"--resume: no checkpoint in {folder}; start the run without --resume")
    return resume


def save(folder: Path, state: dict[str, Any]) -> Path:
    """Write ``state`` to ``folder/checkpoint.pt`` atomically and durably (fsync before and after the rename)."""
    path = folder / CHECKPOINT
    temporary = path.with_suffix(".pt.tmp")
    with open(temporary, "wb") as file:
        torch.save(state, file)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return path


def read(path: Path) -> dict[str, Any]:
    """A checkpoint's contents, read with ``weights_only=True``; a clear refusal of anything else."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise ValueError(
            f"{path} holds more than tensors and plain values (written by an eq_gym older than 2026-12-01, or "
            f"by something else); loading it would run any code its pickle holds, so it is refused. Delete it "
            f"and train again, or, if you wrote it yourself, read it with torch.load(weights_only=False). "
            f"({str(error).splitlines()[0]})"
        ) from None
    made = state.get("config", {})
    if "env" in made and made.get("backbone") is None:  # written before 2026-12-04: no backbone meant the paper's
        made["backbone"] = PAPER_BACKBONE.get(made["env"], "transformer")
    if "env" in made and "recipe" not in made:  # written before 2026-12-07: every run was one run at its q
        made.update(recipe="paper", rung_epochs=0, rungs=list(RUNGS))
    if "env" in made and "validation" not in made:  # made before --validation (2026-12-07): scored on the whole split
        made["validation"] = 0.0
    return state


def load(folder: Path, config: dict[str, Any]) -> dict[str, Any]:
    """Read ``folder/checkpoint.pt``, refusing one made with another config."""
    path = folder / CHECKPOINT
    if not path.is_file():
        raise ValueError(f"--resume: no checkpoint at {path}; start the run without --resume")
    state = read(path)
    refuse_other_settings(state["config"], config, f"--resume: {path}")
    return state


def given_model(state: dict[str, Any]) -> dict[str, Any]:
    """The model weights a run gives (to evaluate, to start another run from): under ``--keep best`` its kept
    iterate, else its last."""
    return state["kept"]["model"] if state.get("kept") else state["model"]


def made_with(folder: Path) -> dict[str, Any]:
    """The config of the run in ``folder`` (from its checkpoint)."""
    return read(folder / CHECKPOINT)["config"]


def refuse_other_settings(made: dict[str, Any], asked: dict[str, Any], what: str,
                          may_differ: set[str] = RESUMABLE_CHANGES) -> None:
    """Raise unless a run made with ``made`` is the run ``asked`` for, up to the fields ``may_differ``.

    A field the run's config lacks (made by an older version) counts as changed.
    """
    changed = {k for k in asked if k not in may_differ and made.get(k) != asked[k]}
    if changed:
        details = ", ".join(f"{k}: {made.get(k)!r} -> {asked[k]!r}" for k in sorted(changed))
        raise ValueError(f"{what} was made with other settings ({details}); use a new --out")
