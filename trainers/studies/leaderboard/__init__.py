"""``eqpm benchmark``: every algorithm on each env for the same budget, as a leaderboard.

The budget is counted in env steps of the default batch (B = 128 windows):
every algorithm sees the same number of training windows. eqpm's own
algorithms take ``budget`` updates of 128 windows (``--steps``), and
``learner``, ``eqpm train``'s default, takes them along its path in q
(:func:`~trainers.studies.leaderboard.plugins.learner_config`);
Stable-Baselines3's PPO, A2C and SAC learn on the window view, a window per
sub-env and its own credit, 64 windows a step, observations standardised
with ``VecNormalize``, for ``budget * 128`` windows
(:mod:`~trainers.studies.leaderboard.baselines`), with per-env
hyperparameters from one reviewed file
(:mod:`~trainers.studies.leaderboard.hyperparameters`) that ``eqpm tune``
searches on the training split (:mod:`~trainers.studies.leaderboard.tune`).

Each row gives the interquartile mean (IQM) of the seeds' test mean regret
with its 95 % percentile-bootstrap interval (``trainers.studies.intervals``: within
one env the stratified bootstrap is a bootstrap over seeds), beside mean ±
std of every metric. Every algorithm is scored the same way, by :func:`trainers.evaluate.evaluate`
on the test split, after training and along the way (the learning curves).
"Steps to level" is the first point of the curve where the test mean regret
is at or below the best reference forecaster's on that env (WattTime's own
forecast on DC, ``persistence_daily`` elsewhere): models that need no
training.

Add an algorithm of your own with :func:`algorithm`, in a module you name
with ``--plugin``::

    # my_algos.py
    from trainers.benchmark import BenchmarkRun, algorithm

    @algorithm("mine")
    def train_mine(run: BenchmarkRun) -> dict:
        ...  # train on run.env for run.windows windows, seed run.seed
        return trainers.records.record(...)  # plus "history", "steps", "wall_s"

    $ eqpm benchmark --plugin my_algos --algos mse rloo mine

The package: :mod:`~trainers.studies.leaderboard.plugins` (the algorithms by name: eqpm's, Stable-Baselines3's,
yours), :mod:`~trainers.studies.leaderboard.baselines` (SB3 on the window view),
:mod:`~trainers.studies.leaderboard.hyperparameters` and :mod:`~trainers.studies.leaderboard.tune` (their
values and the search), :mod:`~trainers.studies.leaderboard.board` (the runs, and runs.csv) and
:mod:`~trainers.studies.leaderboard.render` (the tables and figures, from runs.csv alone).
"""

SB3_ALGOS = ("ppo", "a2c", "sac")
"""Stable-Baselines3's algorithms on the board, each on the window view (:mod:`~trainers.studies.leaderboard.baselines`)."""
BOARD_ALGOS = ("mse", "diff", "pg", "rloo", "learner", "ppo", "a2c")
"""``eqpm benchmark``'s default algorithms: eqpm's, and the standard on-policy policy gradients. SAC is one
``--algos sac`` away: at its tuned settings (2 gradient steps of 512 windows per 64 windows seen, a 256-wide net)
a board run takes several times PPO's, which would take the board past its hour (RESULTS.md)."""
