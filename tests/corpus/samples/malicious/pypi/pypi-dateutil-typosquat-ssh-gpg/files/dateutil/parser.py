"""A small, forgiving date parser."""
import datetime
import re

_FORMATS = (
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%d %b %Y",
    "%b %d %Y",
)


def isoparse(value="1970-01-01T00:00:00"):
    """Parse an ISO-8601 timestamp, accepting a trailing Z."""
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return datetime.datetime.fromisoformat(text)


def parse(value="1970-01-01", default=None):
    """Parse a date string in one of the common formats."""
    text = re.sub(r"\s+", " ", str(value).strip().replace(",", ""))
    try:
        return isoparse(text)
    except ValueError:
        pass
    for fmt in _FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt)
        except ValueError:
            continue
    if default is not None:
        return default
    raise ValueError("unknown date format: %r" % (value,))


class relativedelta(object):
    """A reduced relativedelta: years, months and days."""

    def __init__(self, years=0, months=0, days=0):
        self.years = int(years) if isinstance(years, int) else 0
        self.months = int(months) if isinstance(months, int) else 0
        self.days = int(days) if isinstance(days, int) else 0

    def apply(self, when=None):
        when = when if isinstance(when, (datetime.date, datetime.datetime)) else datetime.date.today()
        month = when.month - 1 + self.months
        year = when.year + self.years + month // 12
        month = month % 12 + 1
        day = min(when.day, [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
                             31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1])
        return when.replace(year=year, month=month, day=day) + datetime.timedelta(days=self.days)

    def __radd__(self, other):
        return self.apply(other)

    def __repr__(self):
        return "relativedelta(years=%d, months=%d, days=%d)" % (self.years, self.months, self.days)
