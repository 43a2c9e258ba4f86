"""Estimators, driven by the registry: sane losses, refusals, and gradients that point the right way."""

import numpy as np
import pytest
import torch

from eq_gym.objective import Objective, combined_objective
from eq_gym.tasks import make_task
from tests.support.training import flat_grad, make_batch, small_policy
from trainers.config import TrainConfig
from trainers.estimators import ESTIMATORS, build_estimator, foreign_settings


@pytest.mark.parametrize("algo", list(ESTIMATORS))
@pytest.mark.parametrize("task_name", ["dc", "ev", "mixed"])
def test_every_estimator_gives_a_finite_gradient_even_at_q_39(algo, task_name):
    task = make_task(task_name, agents="different") if task_name != "dc" else make_task("dc", agents="different", lambdas="different")
    cls = ESTIMATORS[algo]
    if cls.needs_smooth_agents and not task.population.smooth:
        with pytest.raises(ValueError, match=f"algo '{algo}'.*EV chargers.*use rloo, spo, pfy or pg"):
            cls(task.population, Objective(39.0, "paper"))
        return
    policy = small_policy(task)
    if cls.needs_slot_agents and task.population.smooth:  # it would be diff's code under another name
        with pytest.raises(ValueError, match=f"algo '{algo}' trains agents that choose slots.*use diff"):
            cls(task.population, Objective(39.0, "paper"), model=policy if cls.needs_model else None)
        return
    estimator = cls(task.population, Objective(39.0, "paper", 0.2), model=policy if cls.needs_model else None)
    batch = make_batch(task, 32)
    mean, log_std = policy(batch.inputs)
    result = estimator.step(mean, log_std, batch)
    result.loss.backward()
    grads = [p.grad for p in policy.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert result.agent_regret.shape == (task.num_agents,) and torch.isfinite(result.objective)


@pytest.mark.parametrize("algo", [a for a, cls in ESTIMATORS.items() if cls.stochastic])
def test_stochastic_estimators_refuse_sample_counts_they_cannot_use(algo):
    task = make_task("ev")
    if "samples" in ESTIMATORS[algo].settings:  # rloo: its baseline leaves one sample out
        with pytest.raises(ValueError, match="samples=1 is not allowed for rloo; use >= 2"):
            ESTIMATORS[algo](task.population, Objective(1.0, "paper"), samples=1)
        assert ESTIMATORS[algo](task.population, Objective(1.0, "paper"), samples=2).samples == 2
    else:  # pg draws one forecast per window, as in the paper: a sample count is no setting of it
        with pytest.raises(ValueError, match=f"samples=8 is not a setting of algo '{algo}'; it takes none"):
            ESTIMATORS[algo](task.population, Objective(1.0, "paper"), samples=8)


@pytest.mark.parametrize("algo", list(ESTIMATORS))
def test_each_estimator_takes_its_own_settings_and_refuses_others_by_name(algo):
    cls = ESTIMATORS[algo]
    task = make_task("ev" if cls.needs_slot_agents else "dc")  # an env each estimator accepts
    model = small_policy(task) if cls.needs_model else None
    foreign = sorted(foreign_settings(algo))[0]
    with pytest.raises(ValueError, match=f"{foreign}=.* is not a setting of algo '{algo}'"):
        cls(task.population, Objective(1.0, "paper"), model=model, **{foreign: 2})
    config = TrainConfig(algo=algo, **{foreign: 2 if foreign != "score" else "sampled"})
    with pytest.raises(ValueError, match=f"--{foreign} .* is not used by algo '{algo}'"):
        build_estimator(config, task.population, model)
    built = build_estimator(TrainConfig(algo=algo), task.population, small_policy(task))
    assert all(getattr(built, name) == default for name, default in cls.settings.items())
    assert (built.model is not None) == cls.needs_model


def test_an_estimator_that_looks_at_the_policy_refuses_to_start_without_it():
    needing = [algo for algo in ESTIMATORS if ESTIMATORS[algo].needs_model]
    assert needing
    for algo in needing:
        with pytest.raises(ValueError, match=f"algo '{algo}' looks at the policy's parameters"):
            ESTIMATORS[algo](make_task("ev").population, Objective(1.0))


def smoothed_exact_gradient(policy, task, batch, q, draws=400):
    """Gradient of E_y~N(mean, std)[L_q], by backprop through the smooth DC agents (many samples)."""
    mean, log_std = policy(batch.inputs)
    noise = torch.randn((draws, *mean.shape), generator=torch.Generator().manual_seed(99))
    samples = mean.unsqueeze(0) + log_std.exp().detach() * noise
    regret = torch.stack([task.population.regret(s, batch.targets, batch.contexts) for s in samples])
    objective = combined_objective(regret.mean(dim=(0, 2)), torch.zeros(()), q, 0.0, "paper")
    return flat_grad(policy, objective)


@pytest.mark.parametrize("algo, size, repeats", [("rloo", 64, 60), pytest.param("pg", 8, 4000, marks=pytest.mark.slow)])
def test_policy_gradients_point_like_the_exact_gradient_on_dc(algo, size, repeats):
    """pg's variance grows with the batch (one score for all windows): it gets a small batch and many draws."""
    task = make_task("dc", agents="different", lambdas="different")
    policy = small_policy(task, init_std=0.3)
    policy.log_std.requires_grad_(False)  # compare the gradient of the mean only
    batch = make_batch(task, size)
    q = 1.0
    exact = smoothed_exact_gradient(policy, task, batch, q)
    cosines = []
    for group in range(4):
        estimator = ESTIMATORS[algo](task.population, Objective(q, "paper"))
        generator = torch.Generator().manual_seed(group)
        batch.noise = lambda samples: torch.randn((samples, size, 1), generator=generator)
        total = torch.zeros_like(exact)
        for _ in range(repeats):
            mean, log_std = policy(batch.inputs)
            estimator.scale.value = 1.0  # a fixed scale: average raw estimates
            total += flat_grad(policy, estimator.step(mean, log_std, batch).loss)
        cosines.append(float(torch.nn.functional.cosine_similarity(total, exact, dim=0)))
    assert np.mean(cosines) > 0.9 and np.std(cosines) < 0.05, cosines
