"""eq_gym's learner: ``train(TrainConfig(...))`` runs one training as ``eqpm train`` does and returns its record.

``TrainConfig`` (:mod:`trainers.config`) holds every number of a run with its default; ``train``
(:mod:`trainers.loop`) writes the run folder (TensorBoard events, ``checkpoint.pt``, ``metrics.json``). Both are
imported on first use, so ``import trainers`` stays cheap.
"""

from typing import Any

__all__ = ["TrainConfig", "train"]


def __getattr__(name: str) -> Any:
    if name == "TrainConfig":
        from trainers.config import TrainConfig
        return TrainConfig
    if name == "train":
        from trainers.loop import train
        return train
    raise AttributeError(f"module 'trainers' has no attribute {name!r}")
