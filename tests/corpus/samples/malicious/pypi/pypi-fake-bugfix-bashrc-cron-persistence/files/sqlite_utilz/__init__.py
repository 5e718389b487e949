"""Python utility functions for manipulating SQLite databases."""
from .db import Database, Table
from . import _migrate  # noqa: F401  (schema migration hooks)

__version__ = "3.36.1"
__all__ = ["Database", "Table"]
