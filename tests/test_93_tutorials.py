"""The tutorials of the docs site run as written: every Python block of each page, in order, in one namespace."""

import re
from pathlib import Path

import pytest

TUTORIALS = sorted((Path(__file__).resolve().parents[1] / "docs" / "tutorials").glob("*.md"))
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def test_every_tutorial_in_the_site_nav_and_every_nav_tutorial_on_disk():
    nav = (Path(__file__).resolve().parents[1] / "mkdocs.yml").read_text()
    listed = set(re.findall(r"(tutorials/[\w-]+\.md)", nav))
    assert listed == {f"tutorials/{p.name}" for p in TUTORIALS} and len(listed) == 5


@pytest.mark.parametrize("page", [p for p in TUTORIALS if BLOCK.search(p.read_text())], ids=lambda p: p.stem)
def test_the_tutorials_python_runs(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = "\n".join(BLOCK.findall(page.read_text()))
    exec(compile(code, str(page), "exec"), {"__name__": f"tutorial_{page.stem.replace('-', '_')}"})
