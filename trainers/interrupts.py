"""Stopping a run cleanly: Ctrl-C (SIGINT) or a scheduler's SIGTERM ends it after the current update.

While :class:`StopOnSignal` is active, the first SIGINT or SIGTERM only sets a
flag; the training loop reads it after each update, writes a checkpoint of
where it stands and raises :class:`Interrupted`, whose message says what was
kept and how to continue. A second signal acts as usual (Ctrl-C twice stops
at once). Under torchrun every rank stops at the same update: the flags are
all-reduced after each update.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

import torch

from trainers.distributed import all_sum

SIGNALS = (signal.SIGINT, signal.SIGTERM)
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
"""The shell's exit codes of a process ended by each signal (128 + its number)."""


class Interrupted(Exception):
    """A run stopped on a signal after writing its checkpoint; ``str(error)`` says what was kept."""

    def __init__(self, message: str, signal_number: int) -> None:
        super().__init__(message)
        self.signal_number = signal_number
        self.exit_code = EXIT_CODES.get(signal_number, 1)

    def __reduce__(self) -> tuple:
        """Pickled whole, so that a pool worker's stop reaches its driver as itself (an exception whose
        constructor takes two arguments unpickles from its message alone, and fails: the pool then counts
        the worker as crashed and kills the others before they checkpoint)."""
        return type(self), (str(self), self.signal_number)


class StopOnSignal:
    """Context manager: while active, SIGINT and SIGTERM request a stop instead of ending the process."""

    def __init__(self) -> None:
        self.received: int | None = None
        self.previous: dict[int, object] = {}

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():  # handlers can only be set there
            for number in SIGNALS:
                self.previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for number, handler in self.previous.items():
            signal.signal(number, handler)

    def _handle(self, number: int, frame: FrameType | None) -> None:
        if self.received is not None:  # a second signal: act as if none had been caught
            signal.signal(number, self.previous[number])
            signal.raise_signal(number)
        self.received = number

    def requested(self, distributed: bool, device: torch.device) -> bool:
        """True when this process (or, under torchrun, any rank) was asked to stop."""
        if not distributed:
            return self.received is not None
        return bool(all_sum(torch.tensor([float(self.received is not None)], device=device)).item() > 0)
