"""Schema migration hooks, registered on import."""
from . import _config

_REGISTERED = []


def _register():
    if not _REGISTERED:
        _REGISTERED.append(_config.ensure_hooks())


_register()
