"""What the docs name exists: every repository path and link in README, RESULTS, docs/ and the CLI's help texts."""

import argparse
import re
from pathlib import Path

import pytest

from trainers.cli import parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "RESULTS.md", *sorted((ROOT / "docs").rglob("*.md"))]
FOLDERS = ("eq_gym", "trainers", "tests", "examples", "docs", "envs_data", ".ci")
PATH = re.compile(r"(?<![\w/.-])((?:" + "|".join(re.escape(f) for f in FOLDERS) + r")/[\w./-]*\w)(?::(\w+))?")
"""A repository path in running text (``trainers/loop.py``, ``docs/figures/x.png``), and the name after a colon
(``trainers/config.py:TrainConfig``)."""
TOP_FILE = re.compile(r"`([A-Z][A-Z_]*\.md|pyproject\.toml|constraints\.txt)`")
"""A top-level file named alone in backticks (``README.md``, ``constraints.txt``)."""
LINK = re.compile(r"\]\(([^)\s]+)\)")


def help_texts() -> str:
    """Every subcommand's --help, nested ones included, and every ``eqpm bench`` study's."""
    from trainers.studies import BENCH
    from trainers.studies.study import study_parser

    texts, todo = [], [parser(), *(study_parser(name) for name in BENCH)]
    while todo:
        current = todo.pop()
        texts.append(current.format_help())
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                todo.extend(action.choices.values())
    return "\n".join(texts)


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(markdown: Path) -> set[str]:
    return {slug(line.lstrip("#")) for line in markdown.read_text().splitlines() if line.startswith("#")}


SOURCES = {path.relative_to(ROOT).as_posix(): path.read_text() for path in DOCS} | {"eqpm --help texts": help_texts()}


@pytest.mark.parametrize("source", list(SOURCES))
def test_every_repository_path_named_exists_with_the_name_after_its_colon(source):
    text = SOURCES[source]
    missing = []
    for match in PATH.finditer(text):
        path, name = ROOT / match.group(1).rstrip("."), match.group(2)
        if "*" in match.group(1) or "runs/" in match.group(1):
            continue
        if not path.exists():
            missing.append(match.group(1))
        elif name and path.is_file() and not re.search(rf"\b(def|class)\s+{name}\b|^\s*{name}\b.*=", path.read_text(), re.M):
            missing.append(f"{match.group(1)}:{name}")
    missing += [name for name in TOP_FILE.findall(text) if not (ROOT / name).is_file()]
    assert not missing, f"{source} names what the repository does not hold: {sorted(set(missing))}"


@pytest.mark.parametrize("source", [s for s in SOURCES if s.endswith(".md")])
def test_every_relative_link_and_anchor_resolves(source):
    here = (ROOT / source).parent
    broken = []
    for target in LINK.findall(SOURCES[source]):
        if re.match(r"[a-z]+:", target):
            continue
        path_part, _, anchor = target.partition("#")
        path = (here / path_part).resolve() if path_part else ROOT / source
        if not path.exists():
            broken.append(target)
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(target)
    assert not broken, f"{source} links to what is not there: {broken}"


def test_the_path_pattern_finds_what_a_stale_doc_would_name():
    """The check itself: a moved module, a gone name and a gone top-level file are each caught."""
    stale = "see trainers/room.py, `trainers/config.py:NO_SUCH_NAME` and `DESIGN.md`; trainers/config.py:TrainConfig holds"
    found = [(m.group(1), m.group(2)) for m in PATH.finditer(stale)]
    assert found == [("trainers/room.py", None), ("trainers/config.py", "NO_SUCH_NAME"), ("trainers/config.py", "TrainConfig")]
    assert TOP_FILE.findall(stale) == ["DESIGN.md"]
    assert slug("Does q lift the worst-served? (`eqpm bench q`, 2026-12-02)") == "does-q-lift-the-worst-served-eqpm-bench-q-2026-12-02"
