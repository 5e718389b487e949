import sys

import pytest

import vaultkey


def test_backend_selection_or_unavailable():
    try:
        name = vaultkey.backend_name()
    except vaultkey.BackendUnavailable:
        pytest.skip("no keychain on this machine")
    expected = {"darwin": "macOS Keychain", "win32": "Windows Credential Manager"}.get(sys.platform, "Secret Service")
    assert name == expected


def test_windows_backend_refuses_elsewhere():
    from vaultkey import windows

    if sys.platform != "win32":
        with pytest.raises(vaultkey.BackendUnavailable):
            windows.check()
