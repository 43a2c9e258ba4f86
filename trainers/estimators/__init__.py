"""Gradient estimators, by name: the registry gives ``--algo`` its choices and drives the tests."""

from trainers.estimators.base import Batch, Estimator, StepResult
from trainers.estimators.diff import Differentiable
from trainers.estimators.forml import FairnessReweighting
from trainers.estimators.mse import MSE
from trainers.estimators.pfy import PerturbedFenchelYoung
from trainers.estimators.pg import PaperPolicyGradient
from trainers.estimators.rloo import LeaveOneOutPolicyGradient
from trainers.estimators.spo import SPOPlus

ESTIMATORS: dict[str, type[Estimator]] = {
    cls.name: cls
    for cls in (
        MSE, Differentiable, PaperPolicyGradient, LeaveOneOutPolicyGradient, SPOPlus, PerturbedFenchelYoung,
        FairnessReweighting,
    )
}

__all__ = ["ESTIMATORS", "Batch", "Estimator", "StepResult"]
