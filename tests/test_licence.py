"""Licences and citation: the files a teacher needs before reusing a chapter."""

import json

import jsonschema
import yaml

from conftest import ROOT
from prefalign import repository

SCHEMA = ROOT / "tests" / "data" / "cff" / "schema-1.2.0.json"


def test_citation_cff_validates_against_the_cff_schema():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    citation["date-released"] = str(citation["date-released"])
    jsonschema.validate(citation, json.loads(SCHEMA.read_text()))
    assert citation["repository-code"] == repository.url(ROOT)
    assert "arXiv:2602.12180" in json.dumps(citation["preferred-citation"])


def test_the_schema_catches_a_broken_record():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    del citation["authors"]
    try:
        jsonschema.validate(citation, json.loads(SCHEMA.read_text()))
    except jsonschema.ValidationError as exc:
        assert "authors" in exc.message
    else:
        raise AssertionError("a record without authors validated")


def test_licences_and_how_to_cite():
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert "CC BY 4.0" in (ROOT / "LICENSE-CONTENT.md").read_text()
    intro = (ROOT / "book" / "intro.md").read_text()
    section = intro[intro.index("## How to cite"):]
    assert "```bibtex" in section and "https://arxiv.org/abs/2602.12180" in section
    assert "Chen" in section and "Jordan" in section
