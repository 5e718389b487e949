"""Store and fetch application secrets in the operating system's keychain.

    >>> import vaultkey
    >>> vaultkey.set_password("my-cli", "alice", "s3cret")
    >>> vaultkey.get_password("my-cli", "alice")
    's3cret'
"""

import sys

from .errors import BackendUnavailable, VaultKeyError

__version__ = "0.6.0"
__all__ = ["get_password", "set_password", "delete_password", "backend_name", "VaultKeyError", "BackendUnavailable"]


def _backend():
    if sys.platform == "darwin":
        from . import macos as backend
    elif sys.platform == "win32":
        from . import windows as backend
    else:
        from . import secretservice as backend
    backend.check()
    return backend


def backend_name():
    return _backend().NAME


def get_password(service, username):
    """The stored secret, or None when there is none."""
    return _backend().get(service, username)


def set_password(service, username, password):
    _backend().set(service, username, password)


def delete_password(service, username):
    _backend().delete(service, username)
