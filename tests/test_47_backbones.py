"""Backbones, driven by the registry: each maps a window to its features on its own, and refuses what it cannot read."""

import pytest
import torch

from eq_gym.tasks import make_task
from trainers.backbones import BACKBONES, TransformerBackbone
from trainers.config import TrainConfig
from trainers.policy import build_policy

SMALL = {"lstm": {"hidden": 8}, "transformer": {"d_model": 16, "heads": 2}, "mlp": {"rows": 12, "width": 8}}
"""Each backbone's small size, for windows of 12 rows of 1 feature."""


def small(name):
    """The backbone ``name`` at its small size, seeded, and 12 windows of 12 rows of 1 feature."""
    torch.manual_seed(0)
    return BACKBONES[name](**SMALL[name]).eval(), torch.randn(12, 12, 1)


def test_every_backbone_has_a_small_size_here():
    assert set(SMALL) == set(BACKBONES)


@pytest.mark.parametrize("name", list(BACKBONES))
def test_each_backbone_reads_each_window_on_its_own(name):
    backbone, windows = small(name)
    changed = windows.clone()
    changed[1:] = torch.randn(11, 12, 1)
    features = backbone(windows)
    assert features.shape == (12, backbone.out_features)
    torch.testing.assert_close(features[0], backbone(changed)[0])
    assert not torch.allclose(features[1], backbone(changed)[1])


@pytest.mark.parametrize("name", list(BACKBONES))
def test_each_backbone_sees_every_hour_of_the_window(name):
    backbone, windows = small(name)
    changed = windows.clone()
    changed[torch.arange(12), torch.arange(12)] += 1.0  # window i: hour i moved
    assert not torch.isclose(backbone(windows), backbone(changed)).all(dim=1).any()


def test_the_mlp_refuses_a_window_of_another_length():
    backbone = BACKBONES["mlp"](rows=12, width=8)
    with pytest.raises(ValueError, match="windows of 12 rows; got 24"):
        backbone(torch.randn(2, 24, 1))


def test_the_policy_builds_the_mlp_for_the_tasks_window():
    task = make_task("ev")
    policy = build_policy(TrainConfig(backbone="mlp", width=8), task)
    inputs = torch.tensor(task.windows.inputs[:3], dtype=torch.float32)
    mean, log_std = policy(inputs)
    assert policy.backbone.rows == task.lookback == inputs.shape[1]
    assert mean.shape == (3, task.horizon)


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
