import os

import pytest

from envload import find_dotenv, load_dotenv, parse

TEXT = r"""
# database
export DB_HOST=db.internal.example
DB_PORT = 5432   # default port
DB_URL="postgres://${DB_HOST}:${DB_PORT}/app"
GREETING='hello ${NOT_EXPANDED}'
MULTI="line1\nline2"
EMPTY=
FALLBACK=${MISSING:-dflt}
"""


def test_parse():
    v = parse(TEXT, environ={})
    assert v["DB_HOST"] == "db.internal.example"
    assert v["DB_PORT"] == "5432"
    assert v["DB_URL"] == "postgres://db.internal.example:5432/app"
    assert v["GREETING"] == "hello ${NOT_EXPANDED}"
    assert v["MULTI"] == "line1\nline2"
    assert v["EMPTY"] == ""
    assert v["FALLBACK"] == "dflt"


def test_bad_line():
    with pytest.raises(ValueError):
        parse("not a pair")


def test_load_does_not_override(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("ENVLOAD_A=file\nENVLOAD_B=file\n")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    monkeypatch.setenv("ENVLOAD_A", "process")
    monkeypatch.delenv("ENVLOAD_B", raising=False)
    assert find_dotenv() == tmp_path / ".env"
    assert load_dotenv()
    assert os.environ["ENVLOAD_A"] == "process"
    assert os.environ["ENVLOAD_B"] == "file"
    monkeypatch.delenv("ENVLOAD_B")
