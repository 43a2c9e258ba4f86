"""TorchRL: GymWrapper around the batched env and the window view passes check_env_specs and rolls out."""

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("torchrl")

from torchrl.envs import GymWrapper  # noqa: E402
from torchrl.envs.utils import check_env_specs  # noqa: E402

import eq_gym  # noqa: E402,F401
from eq_gym.torchrl import torchrl_env  # noqa: E402
from tests.support.examples import load_example  # noqa: E402

ENV_IDS = ("EquitablePM-DC-v0", "EquitablePM-EV-v0", "EquitablePM-Mixed-v0")


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_the_batched_env_passes_torchrls_check_and_rolls_out(env_id):
    env = torchrl_env(env_id, batch_size=8)
    check_env_specs(env, seed=0)
    rollout = env.rollout(3)
    made = gym.make(env_id, batch_size=8)
    assert rollout["observation"].shape == (3, *made.observation_space.shape)
    assert rollout["action"].shape == (3, *made.action_space.shape)
    assert rollout["next", "reward"].shape == (3, 1) and rollout["next", "reward"].isfinite().all()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_the_window_view_passes_torchrls_check_and_its_rewards_are_the_views(env_id):
    check_env_specs(torchrl_env(env_id, num_envs=8), seed=0)
    env = torchrl_env(env_id, num_envs=8)
    assert tuple(env.batch_size) == (8,)
    env.set_seed(0)  # resets the view with seed 0; the rollout's resets keep its windows
    rollout = env.rollout(2, break_when_any_done=False)
    assert rollout["next", "done"].all()  # every window is a one-step episode
    view = gym.make_vec(env_id, num_envs=8, vectorization_mode="vector_entry_point")
    observation, _ = view.reset(seed=0)
    for step in range(2):  # the rollout sees the view's windows in the view's order, with the view's rewards
        np.testing.assert_array_equal(rollout["observation"][:, step].numpy(), observation)
        observation, reward, _, _, info = view.step(rollout["action"][:, step].numpy())
        np.testing.assert_allclose(rollout["next", "reward"][:, step, 0].numpy(), reward, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(rollout["next", "agent_regret"][:, step].numpy(), info["final_info"]["agent_regret"], rtol=1e-6)
    # a transition's info is the acted windows': its time_index is the one the observation came with
    np.testing.assert_array_equal(rollout["next", "time_index"].numpy(), rollout["time_index"].numpy())


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_torchrls_own_wrapper_holds_the_raw_window_view(env_id):
    raw = GymWrapper(gym.make_vec(env_id, num_envs=8, vectorization_mode="vector_entry_point"))
    check_env_specs(raw, seed=0)
    rollout = raw.rollout(2, break_when_any_done=False)
    # TorchRL reads a finished episode's info from final_info: the transition's time_index is the acted windows'
    np.testing.assert_array_equal(rollout["next", "time_index"].numpy(), rollout["time_index"].numpy())


def test_the_torchrl_ppo_example_learns(tmp_path):
    example = load_example("torchrl_ppo")
    result = example.main(example.Args(updates=20, update_epochs=2, num_envs=32, num_steps=4, eval_every=10, out=str(tmp_path)))
    assert result["trained"]["mean"] < result["untrained"]["mean"]
    assert list(tmp_path.glob("events.out.tfevents.*"))
