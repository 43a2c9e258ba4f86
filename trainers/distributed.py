"""torch.distributed plumbing for ``eqpm train`` under torchrun, and the one sum it needs.

A single process is a world of size 1 and every function here is then the
identity. Under ``torchrun --nproc_per_node N`` the process group is set up
from torchrun's environment variables (gloo on CPU, NCCL on CUDA) with a
timeout, so a rank that fails stops the others instead of hanging them.

Why the objective needs an all-reduce: L_q raises each agent's mean regret
over the *global* batch to the power q + 1. Averaging each rank's own L_q (what
plain DDP gradient averaging would give) is a different, biased objective. So
each rank sums its agents' regrets over its share of windows, :func:`all_sum`
adds them up across ranks (with autograd), and every rank computes the same
global L_q. Backward through the all-reduce gives each rank N times its share
of the gradient; DDP's averaging over N ranks then yields exactly the
single-process gradient of the global batch.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor

TIMEOUT = timedelta(minutes=5)
"""A collective that waits longer than this fails the run (a rank died or hangs)."""


@dataclass(frozen=True)
class World:
    """Where this process stands: its rank, how many there are, its device."""

    rank: int
    size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Rank 0 alone writes files and shows progress."""
        return self.rank == 0

    def share(self, batch: int) -> slice:
        """This rank's contiguous, disjoint share of a global batch of ``batch`` windows."""
        bounds = np.linspace(0, batch, self.size + 1).round().astype(int)
        return slice(int(bounds[self.rank]), int(bounds[self.rank + 1]))


def pick_device(name: str) -> torch.device:
    """``auto`` gives CUDA when present, else the CPU; ``cuda`` without a GPU is refused."""
    if name not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device={name!r} is not allowed; use auto, cpu or cuda")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was asked for but torch sees no CUDA GPU; use --device cpu or auto")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def setup(device_name: str) -> World:
    """Join torchrun's process group when launched by it; else a world of one."""
    device = pick_device(device_name)
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size == 1:
        return World(0, 1, device)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=TIMEOUT)
    return World(dist.get_rank(), dist.get_world_size(), device)


def teardown() -> None:
    """Leave the process group once every rank is done with it."""
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def all_sum(tensor: Tensor) -> Tensor:
    """Sum of ``tensor`` over all ranks, differentiable; the identity in one process."""
    if not (dist.is_initialized() and dist.get_world_size() > 1):
        return tensor
    from torch.distributed.nn.functional import all_reduce

    with warnings.catch_warnings():  # deprecated in torch 2.13 for a private module; public from 2.3 on
        warnings.filterwarnings("ignore", message=".*all_reduce is deprecated", category=FutureWarning)
        return all_reduce(tensor, op=dist.ReduceOp.SUM)
