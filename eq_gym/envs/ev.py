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

    With no keywords (``gym.make("EquitablePM-EV-v0")``) the chargers want
    different things of the one forecast, by their hours and by what they pay;
    the paper's setting is ``timing="shared", features="paper",
    priorities="shared", regret="absolute"`` (``eq_gym.tasks.PAPER_SETTING``).

    **What each charger pays** (``priorities``):

    - ``"own"`` (default): every charger picks its slots on the one public
      forecast of E_t but pays under its own mix of the three parts (weights
      summing to 3, E_t's total), in a repeating cycle over the agents: half
      pay E_t itself (the index is published for them), a quarter are
      households on a dynamic tariff paying ``3 * price``, a quarter fleets with
      carbon and water targets on a flat tariff paying ``1.5 * carbon + 1.5 *
      water``. Its regret is Eq. 13 with the truth replaced by what it pays, so
      even the perfect forecast of E_t leaves the tariff and footprint chargers
      regret: no forecast is best for every agent, and q has a genuine
      conflict to arbitrate (conflict 0.46: the perfect forecast leaves 46 % of
      persistence_daily's mean regret; 0 when everyone pays E_t;
      ``eqpm bench room``). Agents are listed by what they pay: the E_t payers,
      then the price payers, then the footprint payers.
    - ``"shared"``: every charger pays under E_t (the paper's).

    **Who acts on which window** (``timing``):

    - ``"own"`` (default): each charger plugs in at the hours its own ACN
      sessions started (``connection_time``, Pacific time) and uses the 12 hours
      that follow. Its mean regret on a batch weighs each window by
      ``rho = p_m(h) / s(h)`` (its share of plug-ins at the window's starting hour
      over the split's share of windows starting then), an unbiased estimate of
      its mean regret over its own windows. "different" agents: a third JPL
      (workplace, 68 % of plug-ins at 5-8 h), a third Caltech before 16 h (69 %
      at 8-12 h), a third Caltech from 16 h (evening); in each third the need
      and rate scale 1x to 4.5x. Who bears the regret then depends on where the
      forecast errs (share divergence 0.98 against 0.01 under shared timing,
      with shared priorities), but hours alone pose no conflict: the perfect
      forecast is still best for every charger (conflict 0), so q can only
      re-weight the data toward the worse-served hours.
    - ``"shared"``: every agent acts on every window alike, with sessions drawn
      independently of the window (the paper's code release). "different":
      half Caltech, half JPL scaled 1x to 4.5x. The agents then differ almost
      only in scale, and q barely changes the best forecast.

    Data, hourly from 2019-04-30 to 2021-09-01, each part scaled to [0, 10]
    with the training part's minimum and maximum; first 70 % of hours train:

    - carbon: CAISO MOER (SGIP signal by WattTime), region SCE (or PGE);
    - water: on-site water usage effectiveness from the wet-bulb temperature of
      the San Diego typical meteorological year (NREL TMY3);
    - price: day-ahead price (ENTSO-E, Netherlands; the paper's CAISO prices
      are not public as a file). 2021 prices rise far above 2019-2020, so the
      test signal reaches well above 10: a real distribution shift.

    Sessions come from ACN-Data, 3 to 12 hours long: energy = kWh delivered,
    rate = energy / duration, k = ceil(duration) (``eq_gym.agents.charger_pools``).

    ## Action Space

    ``Box(low, high, (batch_size, 12), float32)``: the forecast of E_t for the
    12 hours of each window. The bounds cover the whole series with one unit of
    margin (5 to 26 for SCE). Actions outside the Box are clipped into it
    (``info["clipped"]`` counts them); NaN or inf actions and wrong shapes
    raise a ValueError.

    ## Observation Space

    ``Box(low, high, (batch_size, L, F), float32)``, a row per hour.

    ``features="ahead"`` (default): L = 36 rows, the 24 past hours then the 12
    forecast hours, F = 9 columns:

    | column | name | past rows (0-23) | forecast rows (24-35) |
    | --- | --- | --- | --- |
    | 0 | signal | E_t | 0 (not known) |
    | 1-4 | hour_sin, hour_cos, week_sin, week_cos | the local clock | the local clock |
    | 5 | water | the water term | the water term (a typical year's weather: a function of the calendar) |
    | 6 | price | the price | the day-ahead price, where published before the window starts; else the same hour a day earlier |
    | 7 | price_public | 1 | 1 where column 6 is the hour's own price, else 0 |
    | 8 | observed | 1 | 0 |

    Water and price are on their [0, 10] scales (E_t's parts). The day-ahead
    auction publishes a whole delivery day's prices by 13:00 Amsterdam time
    on the day before (``eq_gym.observations.price_published``), 11 to 35 hours ahead,
    so every hour of a 12-hour window is public when the forecast is made
    (column 7 is 1 throughout here; it varies for longer horizons). This is
    the default because it serves the agents better, the worst-served most
    (RESULTS.md, ``eqpm bench known-ahead``).

    ``features="calendar"``: L = 24 past hours, F = 5: E_t and the clock
    (columns 0-4 above). ``features="paper"``: L = 12, F = 1, E_t alone.

    ## Rewards

    With Cbar_m the mean regret of agent m over the batch (each agent pairs
    every window with one session drawn from its own pool; under own timing,
    the weighted mean above):

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

    ``regret="per_unit"`` (default under own timing): regret per kWh bought
    (divided by zeta * k), so that a large car is not worse served for being
    large: with absolute regret and agents whose sizes span 1x to 4.5x, a large
    q mostly serves the largest agents. ``regret="absolute"`` (default under
    shared timing): the paper's, in signal units x kWh.

    ``info`` after a step: ``agent_regret`` (M,) float64, ``target`` (B, 12)
    the true E_t, ``mse`` (float), ``objective`` (the paper-form L_q where
    float64 holds it, else the power mean: ``objective_form`` says which),
    ``clipped`` (int), ``time_index`` (B,) the axis index and ``start_time``
    (B,) the UTC time (``np.datetime64``) of each next window's first
    forecast hour.

    ## Starting State

    ``reset(seed=s)`` shuffles the windows of the split and seeds the draws of
    contexts; the same seed and actions give the same rewards.

    ## Episode End

    ``terminated`` after one pass over the split (``num_windows // batch_size``
    steps; the last partial batch is dropped). Never truncated.

    ## Window view

    ``gym.make_vec("EquitablePM-EV-v0", num_envs=B, vectorization_mode="vector_entry_point")``:
    one sub-env per window, each rewarded with its window's share of the
    gradient of L_q (``eq_gym.envs.windows``).

    ## Arguments

    ```python
    >>> import gymnasium as gym
    >>> import eq_gym
    >>> env = gym.make("EquitablePM-EV-v0", q=19.0)
    >>> env.action_space.shape, env.observation_space.shape
    ((128, 12), (128, 36, 9))

    ```

    | keyword | default | allowed |
    | --- | --- | --- |
    | ``q`` | 0.0 | >= 0, or inf (the paper's tables show q + 1) |
    | ``batch_size`` | 128 | 1 to the split's number of windows |
    | ``split`` | "train" | "train", "test" |
    | ``agents`` | "different" | "similar", "different" |
    | ``timing`` | "own" | "own", "shared" |
    | ``priorities`` | "own" | "own", "shared" |
    | ``features`` | "ahead" | "ahead", "calendar", "paper" |
    | ``regret`` | per_unit (own), absolute (shared) | "per_unit", "absolute" |
    | ``num_agents`` | 70 | >= 2 ("different": >= 6 own, >= 4 shared); at most 4,830 "similar" (two of Caltech's 9,660 sessions each), 2,003 "different" under own timing (its evening third has 1,335 sessions), 9,660 "different" under shared timing; more is refused naming the limit |
    | ``reward_form`` | "power_mean" | "power_mean", "paper" |
    | ``region`` | "SCE" | "SCE", "PGE" |

    Any other keyword is refused with a ValueError that lists these.

    ## Version History

    - v0: initial release; ``timing``, ``features``, ``regret``, ``start_time``
      and the window view added with own-hours timing as the default;
      ``priorities`` and ``features="ahead"`` added as the defaults, with
      "different" agents, so that the defaults pose a genuine conflict.
    """

    task_name = "ev"
