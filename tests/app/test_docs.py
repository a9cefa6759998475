"""The docs name tests and files that exist: a promise whose test was renamed or removed is caught here."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "bench" / "README.md"]
REFERENCE = re.compile(r"`((?:tests|bench)/[\w/]+\.py|test_\w+\.py)(?:::(\w+))?")


def references():
    for doc in DOCS:
        for match in REFERENCE.finditer(doc.read_text(encoding="utf-8")):
            yield pytest.param(doc.name, match.group(1), match.group(2), id=f"{doc.name}:{match.group(0)[1:]}")
        for match in re.finditer(r"`[^`]*`", doc.read_text(encoding="utf-8")):  # names after a comma in one span
            for name in re.findall(r"(?<=, )(test_\w+\.py)::(\w+)", match.group(0)):
                yield pytest.param(doc.name, *name, id=f"{doc.name}:{'::'.join(name)}")


def find(path: str) -> Path:
    if "/" in path:
        return ROOT / path
    found = sorted((ROOT / "tests").rglob(path))
    assert len(found) == 1, f"{path} names {len(found)} files under tests/"
    return found[0]


@pytest.mark.parametrize("doc, path, name", list(references()))
def test_every_test_and_file_the_docs_name_exists(doc, path, name):
    file = find(path)
    assert file.is_file(), f"{doc} names {path}, which does not exist"
    if name:
        assert re.search(rf"^\s*def {name}\b", file.read_text(encoding="utf-8"), re.M), f"{doc} names {path}::{name}"


LINK = re.compile(r"\]\(((?!https?:|#)[^)#\s]+)")


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_every_local_link_in_the_docs_leads_to_a_file(doc):
    missing = [link for link in LINK.findall(doc.read_text(encoding="utf-8")) if not (doc.parent / link).exists()]
    assert not missing, f"{doc.name} links to {missing}"
