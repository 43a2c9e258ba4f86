"""Sweeps on Ray (the [ray] extra): the same run folders and metrics as the process pool, a dead worker retried,
a failing run named. Skipped where Ray is not installed."""

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow  # starting Ray and its workers: minutes on 2 cores

from trainers.config import TrainConfig  # noqa: E402
from trainers.studies.sweep import run_all, train_once  # noqa: E402

ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the run functions below travel to the workers


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}})
    yield
    ray.shutdown()


def tiny_sweep(out: Path) -> list[TrainConfig]:
    return [TrainConfig(env="EquitablePM-DC-v0", algo=algo, q=1.0, steps=3, seed=seed, progress=False, out=out / f"{algo}-{seed}")
            for algo in ("mse", "diff") for seed in (0, 1)]


def metrics_of(folder: Path) -> dict:
    record = json.loads((folder / "metrics.json").read_text())
    return {k: v for k, v in record.items() if k != "wall_s"} | {
        "history": [{k: v for k, v in h.items() if k != "wall_s"} for h in record["history"]]}


def test_a_sweep_on_ray_gives_the_process_pools_runs(tmp_path, local_ray):
    pool, on_ray = tiny_sweep(tmp_path / "pool"), tiny_sweep(tmp_path / "ray")
    run_all(train_once, pool, jobs=2)
    run_all(train_once, on_ray, jobs=2, ray="local")
    for a, b in zip(pool, on_ray):
        assert sorted(p.name for p in Path(a.out).iterdir() if not p.name.startswith("events")) == \
            sorted(p.name for p in Path(b.out).iterdir() if not p.name.startswith("events"))
        assert metrics_of(Path(a.out)) == metrics_of(Path(b.out))


@dataclass(frozen=True)
class Flaky:
    """A run whose first attempt kills its worker process (as a crash or a lost node would)."""

    config: TrainConfig
    marker: Path

    @property
    def out(self) -> Path:
        return self.config.out


def die_once_then_train(item: Flaky) -> dict:
    if not item.marker.exists():
        item.marker.write_text("died once")
        os._exit(1)
    return train_once(item.config)


def test_a_dead_worker_is_retried_and_no_finished_run_is_lost(tmp_path, local_ray):
    configs = tiny_sweep(tmp_path)[:2]
    items = [Flaky(configs[0], tmp_path / "marker-0"), Flaky(configs[1], tmp_path / "finished-first")]
    items[1].marker.write_text("this one does not die")
    run_all(die_once_then_train, items, jobs=2, ray="local")
    assert (tmp_path / "marker-0").read_text() == "died once"
    assert all((Path(c.out) / "metrics.json").is_file() for c in configs)


def always_fails(config: TrainConfig) -> dict:
    raise RuntimeError(f"no luck for {config.out}")


def test_a_run_that_fails_is_named_and_the_others_are_kept(tmp_path, local_ray):
    good, bad = tiny_sweep(tmp_path)[:2]
    with pytest.raises(ValueError, match=r"1 of 2 runs failed on Ray.*\n.*mse-1: .*no luck"):
        run_all(lambda_free_router, [good, bad], jobs=2, ray="local")
    assert (Path(good.out) / "metrics.json").is_file() and not (Path(bad.out) / "metrics.json").exists()


def lambda_free_router(config: TrainConfig) -> dict:
    """Train seed 0, fail seed 1."""
    return train_once(config) if config.seed == 0 else always_fails(config)
