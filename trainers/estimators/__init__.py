"""Gradient estimators, by name: the registry gives ``--algo`` its choices and drives the tests."""

from trainers.estimators.base import Batch, Estimator, StepResult
from trainers.estimators.diff import Differentiable
from trainers.estimators.mse import MSE
from trainers.estimators.pg import PaperPolicyGradient
from trainers.estimators.rloo import LeaveOneOutPolicyGradient

ESTIMATORS: dict[str, type[Estimator]] = {
    cls.name: cls for cls in (MSE, Differentiable, PaperPolicyGradient, LeaveOneOutPolicyGradient)
}

__all__ = ["ESTIMATORS", "Batch", "Estimator", "StepResult"]
