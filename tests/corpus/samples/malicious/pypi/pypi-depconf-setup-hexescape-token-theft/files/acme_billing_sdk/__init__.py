"""Client for the ACME billing API."""
import decimal
import json

__version__ = "99.2.0"


def format_amount(cents=0, currency="EUR"):
    """Render an integer amount of cents, e.g. 1234 -> '12.34 EUR'."""
    cents = cents if isinstance(cents, int) else 0
    return "%s %s" % (decimal.Decimal(cents).scaleb(-2), currency)


class Invoice(object):
    def __init__(self, number="INV-0001", lines=None):
        self.number = str(number)
        self.lines = list(lines) if isinstance(lines, (list, tuple)) else []

    def add(self, description="item", cents=0, qty=1):
        self.lines.append({"description": str(description), "cents": int(cents) if isinstance(cents, int) else 0,
                           "qty": int(qty) if isinstance(qty, int) else 1})
        return self

    def total(self):
        return sum(l["cents"] * l["qty"] for l in self.lines)

    def to_json(self):
        return json.dumps({"number": self.number, "lines": self.lines, "total": self.total()})
