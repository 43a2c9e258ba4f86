"""eq_gym: Gymnasium environments for socially-equitable public forecasting models.

Importing the package registers the environments (string entry points, so
nothing heavy loads until ``gym.make``)::

    import gymnasium as gym
    import eq_gym

    env = gym.make("EquitablePM-EV-v0", q=19.0)

and the same task one window per sub-env (the window view)::

    envs = gym.make_vec("EquitablePM-EV-v0", num_envs=64, vectorization_mode="vector_entry_point")
"""

from gymnasium.envs.registration import register

__version__ = "0.1.0"

ENV_IDS = {
    "EquitablePM-DC-v0": "eq_gym.envs.dc:DataCentreEnv",
    "EquitablePM-EV-v0": "eq_gym.envs.ev:EVChargingEnv",
    "EquitablePM-Mixed-v0": "eq_gym.envs.mixed:MixedAgentsEnv",
}
"""Registered env ids and their entry points."""
WINDOW_VIEWS = {
    "EquitablePM-DC-v0": "eq_gym.envs.windows:DataCentreWindows",
    "EquitablePM-EV-v0": "eq_gym.envs.windows:EVChargingWindows",
    "EquitablePM-Mixed-v0": "eq_gym.envs.windows:MixedAgentsWindows",
}
"""Their window views, the vector entry points of ``gym.make_vec(..., vectorization_mode="vector_entry_point")``."""

for _env_id, _entry_point in ENV_IDS.items():
    register(id=_env_id, entry_point=_entry_point, vector_entry_point=WINDOW_VIEWS[_env_id])
