"""Studies: what runs many trainings or reports on them, built on the learner in :mod:`trainers`.

- :mod:`~trainers.studies.reproduce`: the paper's experiments over seeds (``eqpm reproduce``);
- :mod:`~trainers.studies.leaderboard`: every algorithm for the same budget (``eqpm benchmark``);
- :mod:`~trainers.studies.throughput`: env and training speed (``eqpm bench env``, ``eqpm bench train``);
- :mod:`~trainers.studies.estimator_targets`: the equity targets of the estimators (``eqpm bench estimators``);
- :mod:`~trainers.studies.room`: how much room each env leaves to q (``eqpm bench room``);
- :mod:`~trainers.studies.known_ahead`: models with and without the known-ahead inputs (``eqpm bench ahead``);
- shared by them: :mod:`~trainers.studies.sweep` (many runs: in parallel, resumed, sharded),
  :mod:`~trainers.studies.report` (the Plain PM's name, the machine line, Markdown and CSV),
  :mod:`~trainers.studies.figures`, :mod:`~trainers.studies.intervals` (bootstrap intervals within one env)
  and :mod:`~trainers.studies.aggregates` (normalised scores and their aggregates across envs, rliable).

Studies import the learner (``trainers.loop``, ``trainers.evaluate``, ...) and the shared modules above,
never the reverse and never another study's internals (``tests/test_05_layout.py`` holds it).
"""
