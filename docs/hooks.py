"""mkdocs hooks: the repository's top-level Markdown files as site pages, their links made the site's.

README.md becomes the home page, RESULTS.md and CHANGELOG.md pages of their own, so each is written once. Links are
rewritten for the site: a link to a page under docs/ or to one of these top-level files points at its site page,
and a link to another repository file (which the site does not hold) becomes its path in code type.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
PAGES = {"README.md": "index.md", "RESULTS.md": "results.md", "CHANGELOG.md": "changelog.md"}
LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")


def site_link(target: str, page: str) -> str | None:
    """A link's target on the site, relative to ``page`` (the repository path of the page it is on), or None for a
    repository file the site does not hold."""
    if re.match(r"[a-z]+:", target) or target.startswith("#"):
        return target
    path, hash_, anchor = target.partition("#")
    repository_path = posixpath.normpath(posixpath.join(posixpath.dirname(page), path))
    site_path = PAGES.get(repository_path) or (repository_path.removeprefix("docs/")
                                               if repository_path.startswith("docs/") else None)
    if site_path is None:
        return None
    site_page = PAGES.get(page) or page.removeprefix("docs/")
    return posixpath.relpath(site_path, posixpath.dirname(site_page) or ".") + hash_ + anchor


def rewrite(markdown: str, page: str) -> str:
    """``markdown`` of the repository file ``page`` with each link's target as the site holds it."""
    def one(match: re.Match) -> str:
        bang, text, target = match.groups()
        found = site_link(target, page)
        return f"{bang}[{text}]({found})" if found is not None else f"{text} (`{target}`)"
    return LINK.sub(one, markdown)


def on_files(files, config):
    for source, page in PAGES.items():
        files.append(File.generated(config, page, content=rewrite((ROOT / source).read_text(), source)))
    return files


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri in PAGES.values():
        return markdown
    return rewrite(markdown, f"docs/{page.file.src_uri}")
