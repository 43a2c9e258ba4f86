"""EquitablePM-DC-v0: a public carbon forecast for 50 data centres."""

from eq_gym.envs.base import EquitableForecastEnv


class DataCentreEnv(EquitableForecastEnv):
    r"""
    ## Description

    A public model forecasts the grid's carbon intensity one hour ahead for 50
    data centres (paper Section 5.1, Eq. 12). Data centre j, with workload w
    and latency weight lambda_j, buys capacity ``p = w + sqrt(lambda_j w / c_hat)``
    for the forecast c_hat and pays ``p c + lambda_j w / (p - w)`` under the true
    carbon c. Its regret, ``sqrt(lambda_j w / c_hat) (sqrt(c_hat) - sqrt(c))^2``,
    is smooth in the forecast, so this env also serves differentiable training.

    Data: carbon is the CAISO marginal operating emission rate (MOER, SGIP
    signal by WattTime), hourly, 2019-04-30 to 2021-09-01, region SCE (or PGE),
    scaled to [0, 10] with the training part's minimum and maximum; the first
    67 % of hours are the training split, the rest the test split. Workloads
    come from the 2019 Azure Functions demand, scaled to [0, 10], cut into one
    contiguous slice per agent (see ``eq_gym.agents.pools``).

    ## Action Space

    ``Box(low, high, (batch_size, 1), float32)``: the forecast of the next
    hour's carbon for each window of the batch, on the [0, 10] scale. The bounds
    cover the whole series with one unit of margin (-1 to 11 for SCE). Actions
    outside the Box are clipped into it (``info["clipped"]`` counts them); NaN
    or inf actions and wrong shapes raise a ValueError. Forecasts below 1e-3
    are raised to 1e-3 by the agents (so is the truth).

    ## Observation Space

    ``Box(low, high, (batch_size, 12, 1), float32)``: the past 12 hours of the
    scaled carbon signal before each window.

    ## Rewards

    With Cbar_m the mean regret of agent m over the batch (each agent pairs
    every window with one workload drawn from its own pool):

    - ``reward_form="power_mean"`` (default): ``-(mean_m Cbar_m^(q+1))^(1/(q+1))``,
      same minimiser as the paper's objective and the scale of one agent's
      regret for every q, so returns compare across q.
    - ``reward_form="paper"``: ``-sum_m Cbar_m^(q+1)``, the paper's Eq. 2.

    Both are <= 0 and finite for q + 1 up to 100.

    ``info`` after a step: ``agent_regret`` (M,) float64, ``target`` (B, 1) the
    true carbon, ``mse`` (float), ``objective`` (the paper-form L_q), ``clipped``
    (int), ``time_index`` (B,) the hour index of each next window's target.

    ## Starting State

    ``reset(seed=s)`` shuffles the windows of the split and seeds the draws of
    contexts; the same seed and actions give the same rewards.

    ## Episode End

    ``terminated`` after one pass over the split (``num_windows // batch_size``
    steps; the last partial batch is dropped). Never truncated.

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import eq_gym
    >>> env = gym.make("EquitablePM-DC-v0", q=2.0, agents="different", lambdas="different")
    >>> env.action_space.shape
    (128, 1)

    ```

    | keyword | default | allowed |
    | --- | --- | --- |
    | ``q`` | 0.0 | finite, >= 0 (the paper's tables show q + 1) |
    | ``batch_size`` | 128 | 1 to the split's number of windows |
    | ``split`` | "train" | "train", "test" |
    | ``agents`` | "similar" | "similar" (even split of the series), "different" (20 of 50 agents with shifted, noisy demand) |
    | ``lambdas`` | "same" | "same" (2 for all), "different" (2, 4, ..., 100) |
    | ``num_agents`` | 50 | >= 2 |
    | ``reward_form`` | "power_mean" | "power_mean", "paper" |
    | ``region`` | "SCE" | "SCE", "PGE" |

    ## Version History

    - v0: initial release.
    """

    task_name = "dc"
