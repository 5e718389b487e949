"""ISO 3166-1 country codes.

    >>> import countrydata
    >>> countrydata.get("SE").name
    'Sweden'
    >>> countrydata.get("752").alpha_3
    'SWE'
"""

import base64
import functools
import hashlib
import json
import zlib
from typing import NamedTuple, Optional

from . import _table

__version__ = "2024.1.0"
__all__ = ["Country", "get", "all_countries", "search"]


class Country(NamedTuple):
    alpha_2: str
    alpha_3: str
    numeric: str
    name: str


@functools.lru_cache(maxsize=1)
def _load():
    raw = zlib.decompress(base64.b64decode("".join(_table.PAYLOAD)))
    if hashlib.sha256(raw).hexdigest() != _table.SHA256:
        raise RuntimeError("countrydata: the packaged table is corrupt; reinstall the package")
    doc = json.loads(raw.decode("utf-8"))
    countries = tuple(Country(**row) for row in doc["countries"])
    index = {}
    for c in countries:
        index[c.alpha_2] = index[c.alpha_3] = index[c.numeric] = c
    return countries, index


def all_countries():
    return _load()[0]


def get(code: str) -> Optional[Country]:
    """Looks up an alpha-2, alpha-3 or numeric code (case-insensitive)."""
    code = str(code).strip().upper()
    if code.isdigit():
        code = code.zfill(3)
    return _load()[1].get(code)


def search(text: str):
    text = text.casefold()
    return [c for c in all_countries() if text in c.name.casefold()]
