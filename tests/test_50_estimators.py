"""Estimators, driven by the registry: sane losses, refusals, and gradients that point the right way."""

import numpy as np
import pytest
import torch

from eq_gym.objective import combined_objective
from eq_gym.tasks import contexts_generator, make_task
from trainers.backbones import TransformerBackbone
from trainers.config import TrainConfig
from trainers.estimators import ESTIMATORS, Batch
from trainers.policy import build_policy


def make_batch(task, size, seed=0, held_out=True):
    generator = contexts_generator(seed)
    rows = np.random.default_rng(seed).choice(task.num_windows, size, replace=False)
    draw = task.population.sampler(size, generator).draw(torch.tensor(task.windows.start[rows]))
    return Batch(
        inputs=torch.tensor(task.windows.inputs[rows]),
        targets=torch.tensor(task.windows.targets[rows]),
        contexts=draw.contexts,
        weight=draw.weight,
        global_size=size,
        noise=lambda samples: torch.randn((samples, size, task.horizon), generator=generator),
        held_out=make_batch(task, size, seed + 1, held_out=False) if held_out else None,
    )


def small_policy(task, backbone="lstm", init_std=0.3):
    config = TrainConfig(backbone=backbone, hidden=8, d_model=16, heads=2, init_std=init_std)
    torch.manual_seed(0)
    return build_policy(config, task)


@pytest.mark.parametrize("algo", list(ESTIMATORS))
@pytest.mark.parametrize("task_name", ["dc", "ev", "mixed"])
def test_every_estimator_gives_a_finite_gradient_even_at_q_39(algo, task_name):
    task = make_task(task_name, agents="different") if task_name != "dc" else make_task("dc", agents="different", lambdas="different")
    cls = ESTIMATORS[algo]
    if cls.needs_smooth_agents and not task.population.smooth:
        with pytest.raises(ValueError, match=f"algo '{algo}'.*EV chargers.*use rloo, spo, pfy or pg"):
            cls(task.population, 39.0, 0.0, "paper", 4)
        return
    estimator = cls(task.population, 39.0, 0.2, "paper", 4)
    policy = small_policy(task)
    estimator.model = policy
    batch = make_batch(task, 32)
    mean, log_std = policy(batch.inputs)
    result = estimator.step(mean, log_std, batch)
    result.loss.backward()
    grads = [p.grad for p in policy.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert result.agent_regret.shape == (task.num_agents,) and torch.isfinite(result.objective)


@pytest.mark.parametrize("algo", [a for a, cls in ESTIMATORS.items() if cls.stochastic])
def test_stochastic_estimators_refuse_or_accept_sample_counts(algo):
    task = make_task("ev")
    if algo == "rloo":
        with pytest.raises(ValueError, match="samples=1"):
            ESTIMATORS[algo](task.population, 1.0, 0.0, "paper", 1)


def flat_grad(policy, loss):
    policy.zero_grad()
    loss.backward()
    return torch.cat([p.grad.flatten() for p in policy.parameters() if p.grad is not None])


def smoothed_exact_gradient(policy, task, batch, q, draws=400):
    """Gradient of E_y~N(mean, std)[L_q], by backprop through the smooth DC agents (many samples)."""
    mean, log_std = policy(batch.inputs)
    noise = torch.randn((draws, *mean.shape), generator=torch.Generator().manual_seed(99))
    samples = mean.unsqueeze(0) + log_std.exp().detach() * noise
    regret = torch.stack([task.population.regret(s, batch.targets, batch.contexts) for s in samples])
    objective = combined_objective(regret.mean(dim=(0, 2)), torch.zeros(()), q, 0.0, "paper")
    return flat_grad(policy, objective)


@pytest.mark.parametrize("algo, size, repeats", [("rloo", 64, 60), ("pg", 8, 4000)])
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
        estimator = ESTIMATORS[algo](task.population, q, 0.0, "paper", 4)
        generator = torch.Generator().manual_seed(group)
        batch.noise = lambda samples: torch.randn((samples, size, 1), generator=generator)
        total = torch.zeros_like(exact)
        for _ in range(repeats):
            mean, log_std = policy(batch.inputs)
            estimator.scale.value = 1.0  # a fixed scale: average raw estimates
            total += flat_grad(policy, estimator.step(mean, log_std, batch).loss)
        cosines.append(float(torch.nn.functional.cosine_similarity(total, exact, dim=0)))
    assert np.mean(cosines) > 0.9 and np.std(cosines) < 0.05, cosines


def test_transformer_attends_within_a_window_only():
    torch.manual_seed(0)
    backbone = TransformerBackbone(d_model=16, heads=2).eval()
    windows = torch.randn(5, 12, 1)
    changed = windows.clone()
    changed[1:] = torch.randn(4, 12, 1)
    torch.testing.assert_close(backbone(windows)[0], backbone(changed)[0])
    assert not torch.allclose(backbone(windows)[1], backbone(changed)[1])


def test_the_transformers_key_bias_gets_no_update():
    torch.manual_seed(0)
    backbone = TransformerBackbone(d_model=16, heads=2)
    optimizer = torch.optim.Adam(backbone.parameters(), lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        backbone(torch.randn(8, 12, 1)).pow(2).sum().backward()
        optimizer.step()
    bias = backbone.encoder.self_attn.in_proj_bias
    assert (bias[16:32] == 0).all() and (bias[:16] != 0).any()
