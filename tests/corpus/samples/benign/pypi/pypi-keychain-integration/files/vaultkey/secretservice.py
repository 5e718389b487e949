"""Freedesktop Secret Service (GNOME Keyring, KWallet) through secret-tool(1)."""

import shutil
import subprocess

from .errors import BackendUnavailable, VaultKeyError

NAME = "Secret Service"


def check():
    if not shutil.which("secret-tool"):
        raise BackendUnavailable("secret-tool is not installed (package libsecret-tools)")


def _run(*args, input=None):
    return subprocess.run(["secret-tool", *args], input=input, capture_output=True, text=True, timeout=30)


def get(service, username):
    proc = _run("lookup", "service", service, "username", username)
    if proc.returncode:
        if not proc.stderr.strip():
            return None  # no matching item
        raise VaultKeyError(proc.stderr.strip())
    return proc.stdout


def set(service, username, password):
    proc = _run("store", f"--label={service} ({username})", "service", service, "username", username, input=password)
    if proc.returncode:
        raise VaultKeyError(proc.stderr.strip())


def delete(service, username):
    proc = _run("clear", "service", service, "username", username)
    if proc.returncode and proc.stderr.strip():
        raise VaultKeyError(proc.stderr.strip())
