"""Tiny dashboards from Python functions."""

from .app import App

__version__ = "1.12.0"
__all__ = ["App", "__version__"]
