"""The import direction of the code's rooms: eq_gym knows nothing of trainers, the learner nothing of the studies,
and no study reaches into another (every import counted, those inside functions too)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_STUDY_MODULES = {"study", "sweep", "report", "timing", "figures", "intervals", "aggregates", "levelling", "hindsight"}
COMMANDS = {"reproduce", "leaderboard"}
"""The studies with a command of their own (``eqpm reproduce``, ``eqpm benchmark``); every other is an ``eqpm bench`` study."""
FRONT_DOORS = {"cli.py", "benchmark.py"}  # the eqpm command, and the plugin API's documented import path


def imported_modules(path: Path) -> set[str]:
    """Every module a source file imports, absolute names."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_the_rules_see_imports_inside_functions(tmp_path):
    source = tmp_path / "lazy.py"
    source.write_text("def f():\n    from trainers.studies import room\n    import trainers.loop\n")
    assert {"trainers.studies", "trainers.studies.room", "trainers.loop"} <= imported_modules(source)


@pytest.mark.parametrize("path", sorted((ROOT / "eq_gym").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_envs_never_import_the_trainers(path):
    assert not {name for name in imported_modules(path) if name.split(".")[0] == "trainers"}


LEARNER = sorted(p for p in (ROOT / "trainers").rglob("*.py") if "studies" not in p.parts and p.name not in FRONT_DOORS)


@pytest.mark.parametrize("path", LEARNER, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_learner_never_imports_a_study(path):
    assert not {name for name in imported_modules(path) if name.startswith("trainers.studies")}


STUDIES = sorted([*(p for p in (ROOT / "trainers" / "studies").glob("*.py") if p.stem not in SHARED_STUDY_MODULES | {"__init__"}),
                  *(p.parent for p in (ROOT / "trainers" / "studies").glob("*/__init__.py"))])
"""The studies: a module each, or a package (its modules may import each other)."""


@pytest.mark.parametrize("path", STUDIES, ids=lambda p: p.stem)
def test_a_study_imports_no_other_study(path):
    others = {f"trainers.studies.{p.stem}" for p in STUDIES} - {f"trainers.studies.{path.stem}"}
    for source in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
        reached = {name for name in imported_modules(source) if any(name == o or name.startswith(o + ".") for o in others)}
        assert not reached, source


def test_the_shared_study_modules_import_no_study():
    for name in SHARED_STUDY_MODULES:
        studies = {f"trainers.studies.{p.stem}" for p in STUDIES}
        assert not {n for n in imported_modules(ROOT / "trainers" / "studies" / f"{name}.py")
                    if any(n == s or n.startswith(s + ".") for s in studies)}, name


ENV_LAYER_TESTS = sorted(p for p in (ROOT / "tests").glob("test_*.py") if int(p.name.split("_")[1]) < 45 and p.name != Path(__file__).name)


@pytest.mark.parametrize("path", ENV_LAYER_TESTS, ids=lambda p: p.name)
def test_the_env_layers_tests_need_no_trainer(path):
    """Tests numbered below 45 test eq_gym alone, so they hold for a user of the envs without the trainers."""
    assert not {name for name in imported_modules(path) if name.split(".")[0] == "trainers"}


def test_every_package_folder_is_installed():
    """pyproject lists its packages by hand: a new folder left off would be missing from a non-editable install."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {".".join(p.parent.relative_to(ROOT).parts) for top in ("eq_gym", "trainers") for p in (ROOT / top).rglob("__init__.py")}
    assert folders <= listed, folders - listed


def test_every_bench_study_is_in_the_registry_and_declares_itself():
    """A study module is ``eqpm bench NAME`` by its name: listed in BENCH, declaring STUDY; its flags are its own."""
    from trainers.studies import BENCH, command_name, module_name
    from trainers.studies.study import Study, load

    assert set(BENCH) == {p.stem for p in STUDIES} - COMMANDS
    for name in BENCH:
        study = load(name)
        assert isinstance(study, Study) and module_name(command_name(name)) == name
        assert (study.grid is None) == (study.key is None) == (study.out is None), name  # a grid comes with its grouping


def test_the_command_line_holds_no_studys_defaults():
    """`eqpm bench`'s parser holds the registry's names alone, and cli.py imports no bench study: each study's flags
    and defaults come from its own declaration."""
    from trainers.cli import parser
    from trainers.studies import BENCH

    bench = parser()._subparsers._group_actions[0].choices["bench"]
    assert [action.dest for action in bench._actions] == ["help", "study", "options"]
    assert not {name for name in imported_modules(ROOT / "trainers" / "cli.py")
                if name.startswith("trainers.studies.") and name.split(".")[2] in BENCH}


SOURCES = sorted(p for top in ("eq_gym", "trainers") for p in (ROOT / top).rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_and_functions_stay_small(path):
    """A module over 350 lines holds several concerns, a function over 60 several steps: split them."""
    source = path.read_text()
    assert source.count("\n") <= 350
    long = [node.name for node in ast.walk(ast.parse(source)) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno - node.lineno + 1 > 60]
    assert not long


def test_the_config_imports_no_estimator():
    """The estimators' names live in their registry; the config is below them, and the CLI joins the two."""
    assert not {name for name in imported_modules(ROOT / "trainers" / "config.py") if name.startswith("trainers.estimators")}
