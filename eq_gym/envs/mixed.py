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
    on it slot by slot.

    With no keywords the agents want different things of the one forecast
    (``eqpm bench room``: share divergence 0.67, conflict 0.46); the paper's
    setting is ``timing="shared", features="paper", priorities="shared",
    regret="absolute"`` (``eq_gym.tasks.PAPER_SETTING``).

    **What each agent pays** (``priorities``):

    - ``"own"`` (default): EV and phone chargers pick their slots on the public
      carbon forecast but pay under their own mix (``eq_gym.agents.priorities``), in
      a repeating cycle: half pay the carbon (the index), a quarter the
      day-ahead price (dynamic tariffs), a quarter carbon and water equally
      (footprint targets on a flat tariff); a quarter of the data centres run
      in the other CAISO region and pay under its carbon. The perfect carbon
      forecast leaves the others regret (conflict 0.46: 46 % of
      persistence_daily's mean regret): no forecast is best for all.
    - ``"shared"``: every agent pays under the public carbon (the paper's).

    **Who acts on which window** (``timing``):

    - ``"own"`` (default): data centres' demand follows the clock of their
      users' time zone (as in ``EquitablePM-DC-v0``, averaged over the window);
      EV chargers plug in at their own ACN sessions' hours (as in
      ``EquitablePM-EV-v0``); phone stations plug in in the evening and at
      night, 18 h to 2 h (most phone charging starts in the evening and the
      longest runs overnight: Ferreira et al., Pervasive 2011; the exact shape
      is our choice, ``eq_gym.agents.charger_pools``). Each agent's mean regret weighs
      the batch's windows by its own hours. Who bears the regret then depends
      on where the forecast errs (share divergence 0.95 with shared
      priorities), but hours alone pose no conflict (the perfect forecast is
      every agent's best): q can only re-weight the data.
    - ``"shared"``: every agent acts on every window alike, contexts drawn
      independently of the window (the paper's setting).

    Data: CAISO MOER (SGIP signal by WattTime), hourly, 2019-04-30 to
    2021-09-01, region SCE (or PGE), scaled to [0, 10] on the training part
    (first 67 % of hours). Data-centre workloads from the 2019 Azure Functions
    demand, EV sessions from ACN-Data, phone sessions of 5-15 Wh at 5-20 W per
    phone for stations of 100 phones. Agents are listed in that order: data
    centres first, then EV chargers, then phone chargers (under own
    priorities each kind of charger by what it pays: carbon, price, footprint).

    ## Action Space

    ``Box(low, high, (batch_size, 12), float32)``: the carbon forecast for the
    12 hours of each window, on the [0, 10] scale (bounds -1 to 11 for SCE).
    Actions outside the Box are clipped into it (``info["clipped"]`` counts
    them); NaN or inf actions and wrong shapes raise a ValueError.

    ## Observation Space

    ``Box(low, high, (batch_size, L, F), float32)``: ``features="calendar"``
    (default) L = 24, F = 5 (the carbon and the clock); ``features="ahead"``
    L = 36, F = 6 (the 24 past hours, then the 12 forecast hours with their
    clock and carbon 0, and a last column ``observed``: nothing of the carbon
    is public ahead); ``features="paper"`` L = 12, F = 1.

    ## Rewards

    With Cbar_m the mean regret of agent m over the batch:

    - ``reward_form="power_mean"`` (default): ``-(mean_m Cbar_m^(q+1))^(1/(q+1))``;
    - ``reward_form="paper"``: ``-sum_m Cbar_m^(q+1)``, the paper's Eq. 2.

    Both are <= 0 and finite: the power mean for every q >= 0 and
    ``q=float("inf")`` (the largest Cbar, min-max); the paper's form for
    finite q, refused by name where its value overflows float64: at make, where
    an uninformed forecast's regrets (a constant at the signal's training mean)
    already overflow it, naming the largest q it holds; later, at the step whose
    regrets do. Regret per unit
    (default under own timing: chargers per kWh, data centres as a share of
    their usual bill) or absolute (the paper's, each kind in its own cost
    unit). ``info`` carries ``agent_regret`` (M,), ``target`` (B, 12), ``mse``,
    ``objective`` (the paper-form L_q where
    float64 holds it, else the power mean: ``objective_form`` says which), ``clipped``, ``time_index`` and
    ``start_time``, as in the other envs.

    ## Starting State

    ``reset(seed=s)`` shuffles the windows and seeds the context draws.

    ## Episode End

    ``terminated`` after one pass over the split (``num_windows // batch_size``
    steps). Never truncated.

    ## Window view

    ``gym.make_vec("EquitablePM-Mixed-v0", num_envs=B, vectorization_mode="vector_entry_point")``
    (``eq_gym.envs.windows``).

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
    | ``q`` | 0.0 | >= 0, or inf |
    | ``batch_size`` | 128 | 1 to the split's number of windows |
    | ``split`` | "train" | "train", "test" |
    | ``agents`` | "different" | "similar", "different" (data centres and EVs as in the DC and EV envs; phones with peaks from 19 h to 1 h) |
    | ``timing`` | "own" | "own", "shared" |
    | ``priorities`` | "own" | "own", "shared" |
    | ``features`` | "calendar" | "calendar", "ahead", "paper" |
    | ``regret`` | per_unit (own), absolute (shared) | "per_unit", "absolute" |
    | ``num_agents`` | 60 | >= 6 ("different": >= 18 own, >= 12 shared), split in thirds |
    | ``reward_form`` | "power_mean" | "power_mean", "paper" |
    | ``region`` | "SCE" | "SCE", "PGE" |

    Any other keyword is refused with a ValueError that lists these.

    ## Version History

    - v0: initial release; ``timing``, ``features``, ``regret``, ``start_time``
      and the window view added with own-hours timing as the default;
      ``priorities`` (default "own") and "different" agents as the default, so
      that the defaults pose a genuine conflict.
    """

    task_name = "mixed"
