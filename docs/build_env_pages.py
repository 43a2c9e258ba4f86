"""Write docs/envs/<id>.md: each registered env's docstring (its documentation) and its baseline rows.

    python docs/build_env_pages.py

The baseline rows are the reference forecasters scored on the test split with
``eqpm evaluate --forecaster NAME --env ID`` (same evaluation seed as every model).
"""

import inspect
import textwrap
from pathlib import Path

import gymnasium as gym

import eq_gym
from eq_gym.forecasters import FORECASTERS
from trainers.evaluate import evaluate_forecaster

PAGES = Path(__file__).parent / "envs"


def docstring(env_id: str) -> str:
    return textwrap.dedent(inspect.getdoc(gym.spec(env_id).make().unwrapped.__class__) or "").strip()


def baselines(env_id: str) -> str:
    lines = ["| forecaster | variance | mean | C95-C5 | MSE | entropy |", "| --- | --- | --- | --- | --- | --- |"]
    for name in FORECASTERS:
        try:
            m = evaluate_forecaster(name, env_id)
        except ValueError:  # the vendor forecast exists for carbon one hour ahead only
            continue
        lines.append(f"| {name} | {m['variance']:.4g} | {m['mean']:.4f} | {m['c95_c5']:.4f} | {m['mse']:.3f} | {m['entropy']:.5f} |")
    return "\n".join(lines)


def page(env_id: str) -> str:
    return (
        f"# {env_id}\n\n{docstring(env_id)}\n\n## Baselines (test split, default keywords)\n\n"
        f"Reference forecasters used as the policy, scored by `eqpm evaluate --forecaster NAME --env {env_id}`:\n\n"
        f"{baselines(env_id)}\n"
    )


if __name__ == "__main__":
    for env_id in eq_gym.ENV_IDS:
        (PAGES / f"{env_id}.md").write_text(page(env_id))
        print(f"wrote {PAGES / f'{env_id}.md'}")
