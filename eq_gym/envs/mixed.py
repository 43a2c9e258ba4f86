"""EquitablePM-Mixed-v0: one carbon forecast for data centres, EVs and phone chargers."""

from eq_gym.envs.base import EquitableForecastEnv


class MixedAgentsEnv(EquitableForecastEnv):
    r"""
    ## Description

    A public model forecasts the next 12 hours of grid carbon for agents with
    different objectives (paper A.4): a third are data centres (Eq. 12,
    lambda = 2), a third EV chargers (Eq. 13 on carbon alone), a third
    phone-charging stations (as an EV with a small energy need). Data centres
    hold one capacity for the window, so they act on the mean of the 12-hour
    forecast (and pay under the mean of the truth); EV and phone chargers act
    on it slot by slot. Regrets are in each kind's own cost unit.

    Data: CAISO MOER (SGIP signal by WattTime), hourly, 2019-04-30 to
    2021-09-01, region SCE (or PGE), scaled to [0, 10] on the training part
    (first 67 % of hours). Data-centre workloads from the 2019 Azure Functions
    demand, EV sessions from ACN-Data (Caltech; with JPL for "different"),
    phone sessions of 5-15 Wh at 5-20 W per phone for stations of 100 phones
    (see ``eq_gym.agents.pools``). Agents are listed in that order: data
    centres first, then EV chargers, then phone chargers.

    ## Action Space

    ``Box(low, high, (batch_size, 12), float32)``: the carbon forecast for the
    12 hours of each window, on the [0, 10] scale (bounds -1 to 11 for SCE).
    Actions outside the Box are clipped into it (``info["clipped"]`` counts
    them); NaN or inf actions and wrong shapes raise a ValueError.

    ## Observation Space

    ``Box(low, high, (batch_size, 12, 1), float32)``: the past 12 hours of the
    scaled carbon signal before each window.

    ## Rewards

    With Cbar_m the mean regret of agent m over the batch:

    - ``reward_form="power_mean"`` (default): ``-(mean_m Cbar_m^(q+1))^(1/(q+1))``;
    - ``reward_form="paper"``: ``-sum_m Cbar_m^(q+1)``, the paper's Eq. 2.

    Both are <= 0 and finite for q + 1 up to 100. ``info`` carries
    ``agent_regret`` (M,), ``target`` (B, 12), ``mse``, ``objective`` (the
    paper-form L_q), ``clipped`` and ``time_index``, as in the other envs.

    ## Starting State

    ``reset(seed=s)`` shuffles the windows and seeds the context draws.

    ## Episode End

    ``terminated`` after one pass over the split (``num_windows // batch_size``
    steps). Never truncated.

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import eq_gym
    >>> env = gym.make("EquitablePM-Mixed-v0", q=0.1)
    >>> env.action_space.shape
    (128, 12)

    ```

    | keyword | default | allowed |
    | --- | --- | --- |
    | ``q`` | 0.0 | finite, >= 0 |
    | ``batch_size`` | 128 | 1 to the split's number of windows |
    | ``split`` | "train" | "train", "test" |
    | ``agents`` | "similar" | "similar", "different" (data centres and EVs as in the DC and EV envs) |
    | ``num_agents`` | 60 | >= 6 ("different": >= 12), split in thirds |
    | ``reward_form`` | "power_mean" | "power_mean", "paper" |
    | ``region`` | "SCE" | "SCE", "PGE" |

    ## Version History

    - v0: initial release.
    """

    task_name = "mixed"
