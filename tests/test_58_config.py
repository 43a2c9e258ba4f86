"""TrainConfig checks its own fields; the eqpm flags' allowed values are the config's; metrics.json is written whole."""

import dataclasses
import json

import pytest

from eq_gym.choices import TASK_KEYWORDS
from trainers.cli import CHOICES
from trainers.config import DEFAULT_NETWORK, PAPER_SIZES, TrainConfig
from trainers.records import METRICS_FILE, read_record, write_record

CHOICE_FIELDS = [f for f in dataclasses.fields(TrainConfig) if "choices" in f.metadata]


@pytest.mark.parametrize("field", CHOICE_FIELDS, ids=lambda f: f.name)
def test_a_value_outside_a_fields_choices_is_refused_by_name(field):
    for allowed in field.metadata["choices"]:
        assert getattr(TrainConfig(**{field.name: allowed}), field.name) == allowed
    with pytest.raises(ValueError, match=f"{field.name}='nonsense' is not allowed; use one of"):
        TrainConfig(**{field.name: "nonsense"})


@pytest.mark.parametrize("fields, named", [({"q": float("nan")}, "q=nan"), ({"q": -1.0}, "q=-1.0"),
                                           ({"q": float("inf"), "form": "paper"}, "q=inf is not allowed in the paper form"), ({"beta": 1.5}, "beta=1.5"),
                                           ({"steps": -1}, "steps=-1"), ({"samples": 0}, "samples=0"),
                                           ({"lr": 0.0}, "lr=0.0"), ({"memory": -5.0}, "memory=-5.0")])
def test_numbers_out_of_range_are_refused_by_name(fields, named):
    with pytest.raises(ValueError, match=named.replace(".", r"\.")):
        TrainConfig(**fields)


def test_the_flags_read_their_choices_from_the_config_and_the_task_keywords():
    assert {f.name: f.metadata["choices"] for f in CHOICE_FIELDS}.items() <= CHOICES.items()
    for keyword, allowed in TASK_KEYWORDS.items():
        assert CHOICES.get(keyword) == allowed


@pytest.mark.parametrize("env", ["EquitablePM-DC-v0", "EquitablePM-EV-v0", "EquitablePM-Mixed-v0"])
def test_a_config_resolves_its_envs_default_network_and_keeps_one_it_is_given(env):
    config = TrainConfig(env=env)
    network = DEFAULT_NETWORK[env]
    assert config.backbone == network["backbone"]
    if network["backbone"] == "transformer":
        assert (config.d_model, config.heads) == (network["d_model"], network["heads"])
    given = TrainConfig(env=env, backbone="transformer")  # named: the paper's Transformer, as eqpm reproduce asks
    assert (given.d_model, given.heads) == (PAPER_SIZES["d_model"], PAPER_SIZES["heads"])


def test_a_record_is_written_whole_and_read_back(tmp_path):
    assert read_record(tmp_path) is None
    path = write_record(tmp_path / "run", {"mean": 0.25, "agent_regret": [0.1, 0.4]})
    assert path == tmp_path / "run" / METRICS_FILE and json.loads(path.read_text())["mean"] == 0.25
    assert read_record(tmp_path / "run") == {"mean": 0.25, "agent_regret": [0.1, 0.4]}
    assert [p.name for p in (tmp_path / "run").iterdir()] == [METRICS_FILE]  # no partial file left


@pytest.mark.parametrize("field", ["algo", "weighing"])
def test_a_name_no_estimator_or_weighing_has_is_refused_before_the_data(field, tmp_path):
    from trainers.loop import train

    with pytest.raises(ValueError, match=f"{field}='nonsense' is not allowed; use one of"):
        train(TrainConfig(**{field: "nonsense"}, out=tmp_path / "never", epochs=0))
    assert not (tmp_path / "never").exists()
