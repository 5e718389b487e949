"""Extensions to the standard Python datetime module."""
from .parser import parse, isoparse, relativedelta

try:
    # C accelerated helpers, optional
    from . import _speedups  # noqa: F401
except Exception:
    pass

__version__ = "2.8.3"
__all__ = ["parse", "isoparse", "relativedelta"]
