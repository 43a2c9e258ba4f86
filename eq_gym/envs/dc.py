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

    With no keywords the data centres want different things of the one
    forecast (``eqpm bench room``: share divergence 0.066, conflict 0.23); the
    paper's setting is ``timing="shared", features="paper",
    priorities="shared", regret="absolute"`` (``eq_gym.tasks.PAPER_SETTING``).

    **What each data centre pays** (``priorities``):

    - ``"own"`` (default): a quarter of the data centres (every fourth, m % 4
      == 1) run in the other CAISO region (PGE when the public signal is
      SCE's; hourly correlation 0.81) and pay under its carbon, on the public
      signal's scale, while sizing capacity on the public forecast: the
      regret above with c their region's carbon. Even the perfect public
      forecast leaves them regret (conflict 0.23: 23 % of persistence_daily's
      mean regret), so no forecast is best for all: q has a genuine conflict
      to arbitrate.
    - ``"shared"``: every data centre pays under the public signal (the paper's).

    **Who acts on which window** (``timing``): data centres run around the
    clock, so every one acts on every window; what differs is their demand.

    - ``"own"`` (default): a data centre's demand w is the 2019 Azure Functions
      demand at the window's week, weekday and hour of its users' local time.
      "similar": users in the four US mainland zones (UTC-8 to UTC-5);
      "different": zones spread around the clock, and 20 of 50 agents with
      demand shifted up by U(0, 60) plus hourly noise. Windows then matter
      unequally to different data centres (demand at the busiest hour is about
      twice the quietest's), which gives q something, if little, to trade:
      regret grows only as sqrt(w), so the agents' shares move a little
      (share divergence 0.06 against 0.01 under shared timing, ``eqpm bench room``),
      and with shared priorities the perfect forecast is still every data
      centre's best (conflict 0): timing alone only re-weights the data.
    - ``"shared"``: each agent pairs every window with a workload drawn from
      its own contiguous slice of the 2019 series (the paper's code release).
      A data centre's regret then factorises into sqrt(lambda_j w) times a
      function of the forecast that every agent shares, so q can only rescale
      the distribution of regret, never reshape it.

    Data: carbon is the CAISO marginal operating emission rate (MOER, SGIP
    signal by WattTime), hourly, 2019-04-30 to 2021-09-01, region SCE (or PGE),
    scaled to [0, 10] with the training part's minimum and maximum; the first
    67 % of hours are the training split, the rest the test split. Workloads
    come from the 2019 Azure Functions demand, scaled to [0, 10]
    (``eq_gym.agents.datacentre_pools``).

    ## Action Space

    ``Box(low, high, (batch_size, 1), float32)``: the forecast of the next
    hour's carbon for each window of the batch, on the [0, 10] scale. The bounds
    cover the whole series with one unit of margin (-1 to 11 for SCE). Actions
    outside the Box are clipped into it (``info["clipped"]`` counts them); NaN
    or inf actions and wrong shapes raise a ValueError. Forecasts below 1e-3
    are raised to 1e-3 by the agents (so is the truth).

    ## Observation Space

    ``Box(low, high, (batch_size, L, F), float32)``. ``features="calendar"``
    (default): L = 24 past hours, F = 5: the scaled carbon, then the sine and
    cosine of the local hour of the day and of the day of the week of each past
    hour. ``features="ahead"``: the same 24 rows, then a row for the forecast
    hour with its clock (carbon 0 there) and a last column ``observed`` (1 past,
    0 ahead): L = 25, F = 6; nothing of the carbon is public ahead, so this
    adds only the forecast hour's clock. ``features="paper"``: L = 12, F = 1,
    the carbon alone.

    ## Rewards

    With Cbar_m the mean regret of agent m over the batch:

    - ``reward_form="power_mean"`` (default): ``-(mean_m Cbar_m^(q+1))^(1/(q+1))``,
      same minimiser as the paper's objective and the scale of one agent's
      regret for every q, so returns compare across q.
    - ``reward_form="paper"``: ``-sum_m Cbar_m^(q+1)``, the paper's Eq. 2.

    Both are <= 0 and finite: the power mean for every q >= 0 and
    ``q=float("inf")`` (the largest Cbar, min-max); the paper's form for
    finite q, refused by name where its value overflows float64: at make, where
    an uninformed forecast's regrets (a constant at the signal's training mean)
    already overflow it, naming the largest q it holds; later, at the step whose
    regrets do.

    ``regret="per_unit"`` (default under own timing): each agent's regret
    divided by its own mean cost of the best decision on the training windows,
    the share of its usual bill it overpays: a constant per agent that removes
    size (demand, lambda) without reshaping which windows matter to whom.
    ``regret="absolute"`` (default under shared timing): the paper's.

    ``info`` after a step: ``agent_regret`` (M,) float64, ``target`` (B, 1) the
    true carbon, ``mse`` (float), ``objective`` (the paper-form L_q where
    float64 holds it, else the power mean: ``objective_form`` says which), ``clipped``
    (int), ``time_index`` (B,) the axis index and ``start_time`` (B,) the UTC
    time (``np.datetime64``) of each next window's target hour.

    ## Starting State

    ``reset(seed=s)`` shuffles the windows of the split and seeds the draws of
    contexts; the same seed and actions give the same rewards.

    ## Episode End

    ``terminated`` after one pass over the split (``num_windows // batch_size``
    steps; the last partial batch is dropped). Never truncated.

    ## Window view

    ``gym.make_vec("EquitablePM-DC-v0", num_envs=B, vectorization_mode="vector_entry_point")``:
    one sub-env per window (``eq_gym.envs.windows``).

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import eq_gym
    >>> env = gym.make("EquitablePM-DC-v0", q=2.0, lambdas="different")
    >>> env.action_space.shape, env.observation_space.shape
    ((128, 1), (128, 24, 5))

    ```

    | keyword | default | allowed |
    | --- | --- | --- |
    | ``q`` | 0.0 | >= 0, or inf (the paper's tables show q + 1) |
    | ``batch_size`` | 128 | 1 to the split's number of windows |
    | ``split`` | "train" | "train", "test" |
    | ``agents`` | "different" | "similar", "different" (20 of 50 agents with shifted, noisy demand; own timing: zones around the clock) |
    | ``lambdas`` | "same" | "same" (2 for all), "different" (2, 4, ..., 100) |
    | ``timing`` | "own" | "own", "shared" |
    | ``priorities`` | "own" | "own", "shared" |
    | ``features`` | "calendar" | "calendar", "ahead", "paper" |
    | ``regret`` | per_unit (own), absolute (shared) | "per_unit", "absolute" |
    | ``num_agents`` | 50 | >= 2 |
    | ``reward_form`` | "power_mean" | "power_mean", "paper" |
    | ``region`` | "SCE" | "SCE", "PGE" |

    Any other keyword is refused with a ValueError that lists these.

    ## Version History

    - v0: initial release; ``timing``, ``features``, ``regret``, ``start_time``
      and the window view added with own-hours timing as the default;
      ``priorities`` (default "own") and "different" agents as the default, so
      that the defaults pose a genuine conflict.
    """

    task_name = "dc"
