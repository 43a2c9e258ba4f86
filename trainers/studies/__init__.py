"""Studies: what runs many trainings or reports on them, built on the learner in :mod:`trainers`.

- :mod:`~trainers.studies.reproduce`: the paper's experiments over seeds (``eqpm reproduce``);
- :mod:`~trainers.studies.leaderboard`: every algorithm for the same budget (``eqpm benchmark``);
- the ``eqpm bench`` studies, :data:`BENCH`: each module declares its flags, its grid of runs and its
  analysis (:mod:`~trainers.studies.study`), and its command is its name;
- shared by them: :mod:`~trainers.studies.study` (what a study declares, the one runner),
  :mod:`~trainers.studies.sweep` (many runs: in parallel, resumed, sharded, on Ray),
  :mod:`~trainers.studies.report` (the Plain PM's name, the machine line, Markdown and CSV),
  :mod:`~trainers.studies.timing` (medians of wall time), :mod:`~trainers.studies.figures`,
  :mod:`~trainers.studies.intervals` (bootstrap intervals within one env), :mod:`~trainers.studies.levelling`
  (levelling up or down, objective consistency), :mod:`~trainers.studies.hindsight` (the truth front)
  and :mod:`~trainers.studies.aggregates` (normalised scores and their aggregates across envs, rliable).

Studies import the learner (``trainers.loop``, ``trainers.evaluate``, ...) and the shared modules above,
never the reverse and never another study's internals (``tests/test_05_layout.py`` holds it).
"""

BENCH = ("env_speed", "train_speed", "room", "estimator_targets", "known_ahead", "q_sweep", "frontier", "descent",
         "wall_budget", "gradient_noise")
"""The ``eqpm bench`` studies, by module name: ``eqpm bench env-speed`` runs ``trainers/studies/env_speed.py``."""
ALIASES = {"env": "env_speed", "train": "train_speed", "estimators": "estimator_targets", "ahead": "known_ahead",
           "q": "q_sweep"}
"""The commands' earlier names, still accepted (RESULTS.md quotes them)."""


def command_name(module: str) -> str:
    """The ``eqpm bench`` command of a study module: its name, ``-`` for ``_``."""
    return module.replace("_", "-")


def module_name(command: str) -> str:
    """The study module of an ``eqpm bench`` command (its name, or an earlier name)."""
    return ALIASES.get(command, command.replace("-", "_"))
