"""Load KEY=value pairs from a .env file into os.environ.

    from envload import load_dotenv
    load_dotenv()                      # nearest .env upwards from the cwd
    load_dotenv(".env.test", override=True)
"""

import os
import re
from pathlib import Path

__version__ = "1.2.0"
__all__ = ["load_dotenv", "dotenv_values", "find_dotenv", "parse"]

_LINE = re.compile(
    r"""^\s*(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_.]*)\s*=\s*
        (?P<value>'(?:[^'])*'|"(?:\\.|[^"\\])*"|[^#\n]*?)
        \s*(?:\#.*)?$""",
    re.VERBOSE,
)
_VAR = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


def _unquote(raw):
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1], False  # single quotes: literal, no interpolation
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), raw[1:-1]), True
    return raw.strip(), True


def parse(text, environ=None):
    """Parses .env text into a dict (later keys may reference earlier ones)."""
    environ = os.environ if environ is None else environ
    values = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _LINE.match(line)
        if not m:
            raise ValueError(f".env line {number} is not KEY=value: {line[:40]!r}")
        value, interpolate = _unquote(m.group("value"))
        if interpolate:
            def sub(v):
                name = v.group("name")
                found = values.get(name, environ.get(name))
                return found if found is not None else (v.group("default") or "")

            value = _VAR.sub(sub, value)
        values[m.group("key")] = value
    return values


def find_dotenv(filename=".env", start=None):
    directory = Path(start or os.getcwd()).resolve()
    for candidate in (directory, *directory.parents):
        path = candidate / filename
        if path.is_file():
            return path
    return None


def dotenv_values(path=None, encoding="utf-8"):
    path = Path(path) if path else find_dotenv()
    if path is None or not path.is_file():
        return {}
    return parse(path.read_text(encoding=encoding))


def load_dotenv(path=None, override=False, encoding="utf-8"):
    """Sets os.environ from the file; returns True when a file was found."""
    path = Path(path) if path else find_dotenv()
    if path is None or not path.is_file():
        return False
    for key, value in dotenv_values(path, encoding).items():
        if override or key not in os.environ:
            os.environ[key] = value
    return True
