"""macOS Keychain through the `security` command-line tool."""

import shutil
import subprocess

from .errors import BackendUnavailable, VaultKeyError

NAME = "macOS Keychain"
_NOT_FOUND = 44  # errSecItemNotFound, as security(1)'s exit status


def check():
    if not shutil.which("security"):
        raise BackendUnavailable("the `security` tool is not available")


def _security(*args, input=None):
    return subprocess.run(["security", *args], input=input, capture_output=True, text=True, timeout=30)


def get(service, username):
    proc = _security("find-generic-password", "-s", service, "-a", username, "-w")
    if proc.returncode == _NOT_FOUND:
        return None
    if proc.returncode:
        raise VaultKeyError(proc.stderr.strip())
    return proc.stdout.rstrip("\n")


def set(service, username, password):
    # -U updates an existing item. security(1) takes the password as an
    # argument, so it is briefly visible in the process list.
    proc = _security("add-generic-password", "-U", "-s", service, "-a", username, "-w", password)
    if proc.returncode:
        raise VaultKeyError(proc.stderr.strip())


def delete(service, username):
    proc = _security("delete-generic-password", "-s", service, "-a", username)
    if proc.returncode and proc.returncode != _NOT_FOUND:
        raise VaultKeyError(proc.stderr.strip())
