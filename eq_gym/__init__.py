"""eq_gym: Gymnasium environments for socially-equitable public forecasting models.

Importing the package registers the environments (string entry points, so
nothing heavy loads until ``gym.make``)::

    import gymnasium as gym
    import eq_gym

    env = gym.make("EquitablePM-EV-v0", q=19.0)
"""

from gymnasium.envs.registration import register

__version__ = "0.1.0"

ENV_IDS = {
    "EquitablePM-DC-v0": "eq_gym.envs.dc:DataCentreEnv",
    "EquitablePM-EV-v0": "eq_gym.envs.ev:EVChargingEnv",
    "EquitablePM-Mixed-v0": "eq_gym.envs.mixed:MixedAgentsEnv",
}
"""Registered env ids and their entry points."""

for _env_id, _entry_point in ENV_IDS.items():
    register(id=_env_id, entry_point=_entry_point)
