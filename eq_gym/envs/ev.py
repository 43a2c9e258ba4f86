"""EquitablePM-EV-v0: a public cost forecast for 70 EV chargers."""

from eq_gym.envs.base import EquitableForecastEnv


class EVChargingEnv(EquitableForecastEnv):
    r"""
    ## Description

    A public model forecasts the next 12 hours of a combined cost signal
    ``E_t = carbon + gamma * water + eta * price`` (gamma = eta = 1) for 70 EV
    chargers (paper Section 5.2, Eq. 13). An EV needing k slots of its 12-slot
    window at rate zeta charges in the k slots cheapest under the forecast and
    pays ``zeta * sum E_t`` over them under the truth. Its regret (against the
    k truly cheapest slots) is exact and piecewise constant in the forecast: no
    useful gradient, so this env is for policy-gradient training.

    Data, hourly from 2019-04-30 to 2021-09-01, each part scaled to [0, 10]
    with the training part's minimum and maximum; first 70 % of hours train:

    - carbon: CAISO MOER (SGIP signal by WattTime), region SCE (or PGE);
    - water: on-site water usage effectiveness from the wet-bulb temperature of
      the San Diego typical meteorological year (NREL TMY3);
    - price: day-ahead price (ENTSO-E, Netherlands; the paper's CAISO prices
      are not public as a file). 2021 prices rise far above 2019-2020, so the
      test signal reaches well above 10: a real distribution shift.

    Agents come from ACN-Data charging sessions of 3 to 12 hours: energy = kWh
    delivered, rate = energy / duration, k = ceil(duration). "similar": the
    Caltech sessions split evenly (chronologically) across agents; "different":
    half Caltech, half JPL with energy needs scaled 1x to 4.5x across agents.

    ## Action Space

    ``Box(low, high, (batch_size, 12), float32)``: the forecast of E_t for the
    12 hours of each window. The bounds cover the whole series with one unit of
    margin (5 to 26 for SCE). Actions outside the Box are clipped into it
    (``info["clipped"]`` counts them); NaN or inf actions and wrong shapes
    raise a ValueError.

    ## Observation Space

    ``Box(low, high, (batch_size, 12, 1), float32)``: the past 12 hours of E_t
    before each window.

    ## Rewards

    With Cbar_m the mean regret of agent m over the batch (each agent pairs
    every window with one session drawn from its own pool):

    - ``reward_form="power_mean"`` (default): ``-(mean_m Cbar_m^(q+1))^(1/(q+1))``,
      same minimiser as the paper's objective and the scale of one agent's
      regret for every q, so returns compare across q.
    - ``reward_form="paper"``: ``-sum_m Cbar_m^(q+1)``, the paper's Eq. 2.

    Both are <= 0 and finite for q + 1 up to 100.

    ``info`` after a step: ``agent_regret`` (M,) float64, ``target`` (B, 12)
    the true E_t, ``mse`` (float), ``objective`` (the paper-form L_q),
    ``clipped`` (int), ``time_index`` (B,) the hour index of each next window's
    first target hour.

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
    >>> env = gym.make("EquitablePM-EV-v0", q=19.0, agents="different")
    >>> env.action_space.shape
    (128, 12)

    ```

    | keyword | default | allowed |
    | --- | --- | --- |
    | ``q`` | 0.0 | finite, >= 0 (the paper's tables show q + 1) |
    | ``batch_size`` | 128 | 1 to the split's number of windows |
    | ``split`` | "train" | "train", "test" |
    | ``agents`` | "similar" | "similar", "different" |
    | ``num_agents`` | 70 | >= 2 ("different": >= 4) |
    | ``reward_form`` | "power_mean" | "power_mean", "paper" |
    | ``region`` | "SCE" | "SCE", "PGE" |

    ## Version History

    - v0: initial release.
    """

    task_name = "ev"
