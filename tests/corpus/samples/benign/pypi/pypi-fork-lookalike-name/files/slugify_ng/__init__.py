"""URL slugs from arbitrary text.

    >>> from slugify_ng import slugify
    >>> slugify("Ünïcödé & Friends — 2024!")
    'unicode-and-friends-2024'
"""

import re
import unicodedata

__version__ = "0.0.1"
__all__ = ["slugify"]

# Letters NFKD does not decompose into ASCII.
_TRANSLITERATE = str.maketrans({
    "ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE",
    "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "þ": "th", "Þ": "Th", "ð": "d", "Ð": "D",
})
_REPLACE = {"&": " and ", "@": " at ", "%": " percent ", "+": " plus "}


def slugify(text, separator="-", max_length=0, lowercase=True, stopwords=()):
    text = str(text).translate(_TRANSLITERATE)
    for symbol, word in _REPLACE.items():
        text = text.replace(symbol, word)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    if lowercase:
        text = text.lower()
    words = [w for w in re.split(r"[^A-Za-z0-9]+", text) if w]
    if stopwords:
        stop = {s.lower() for s in stopwords}
        words = [w for w in words if w.lower() not in stop]
    slug = separator.join(words)
    if max_length and len(slug) > max_length:
        cut = slug[:max_length]
        # Do not cut a word in half when a separator is available.
        slug = cut.rsplit(separator, 1)[0] if separator in cut and slug[max_length:max_length + 1] != separator else cut
    return slug.strip(separator)
