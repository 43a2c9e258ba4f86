"""``eqpm reproduce``: the paper's experiments on the shipped data, over seeds, as tables and figures.

Each run is one ``eqpm train`` into ``OUT/runs/<name>``, its name made of
everything that defines it (env, keywords, algo, q+1, beta, seed, epochs), so
a run shared by two experiments is trained once, a finished run is never
trained again (an interrupted sweep picks up where it stopped), and shards of
a sweep run on several machines merge by copying their ``runs/`` folders
together: the summary reads only the run folders.

Paper tables show q + 1; the env keyword and ``--q`` are q. Every block runs
in two setups with the same seeds (``SETUPS``): the paper's (every agent acts
on every window alike and pays under the public signal, 12 past hours of the
signal alone) and the envs' defaults (agents on their own hours and
priorities, the clock among the features, known-ahead inputs on EV). The
summary adds the reference forecasters, 95 % bootstrap intervals over seeds,
the equity frontier (``frontier-<experiment>.png``) and the per-agent regret
distributions (``regret-<experiment>-<block>.png``).

The package: :mod:`~trainers.studies.reproduce.experiments` (the experiments, their settings and runs),
:mod:`~trainers.studies.reproduce.runs` (running them) and :mod:`~trainers.studies.reproduce.summary` (the
tables, claims and figures from the run folders).
"""
