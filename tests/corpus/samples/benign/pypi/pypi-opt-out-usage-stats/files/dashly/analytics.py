"""Anonymous usage analytics.

Exactly this is sent, once per app start: dashly's version, the Python
major.minor version, the OS name (platform.system()), whether a CI
environment variable is set, and a random id. Turn it off with any of:

    export DO_NOT_TRACK=1
    export DASHLY_ANALYTICS=0
    # ~/.config/dashly/config.toml
    analytics = false
"""

import json
import os
import platform
import re
import sys
import threading
import urllib.request
import uuid
from pathlib import Path

ENDPOINT = "https://analytics.example.com/collect"
CI_VARIABLES = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "BUILDKITE", "CIRCLECI", "TF_BUILD", "JENKINS_URL")


def _config_dir():
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "dashly"


def enabled():
    if os.environ.get("DO_NOT_TRACK", "").lower() in ("1", "true", "yes"):
        return False
    if os.environ.get("DASHLY_ANALYTICS", "").lower() in ("0", "false", "no", "off"):
        return False
    try:
        text = (_config_dir() / "config.toml").read_text(encoding="utf-8")
    except OSError:
        return True
    m = re.search(r"^\s*analytics\s*=\s*(true|false)\s*$", text, re.MULTILINE)
    return not (m and m.group(1) == "false")


def _anonymous_id():
    path = _config_dir() / "id"
    try:
        value = path.read_text(encoding="ascii").strip()
        uuid.UUID(value)
        return value
    except (OSError, ValueError):
        pass
    value = str(uuid.uuid4())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value, encoding="ascii")
        print("dashly collects anonymous usage statistics; set DASHLY_ANALYTICS=0 to opt out.", file=sys.stderr)
    except OSError:
        pass
    return value


def event(version):
    return {
        "event": "app_start",
        "dashly": version,
        "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
        "os": platform.system(),
        "ci": any(os.environ.get(name) for name in CI_VARIABLES),
        "id": _anonymous_id(),
    }


def _send(payload):
    try:
        req = urllib.request.Request(
            ENDPOINT,
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=2) as resp:
            resp.read(0)
    except Exception:  # analytics must never break an app
        pass


def report_start(version):
    """Sends the start event in the background; returns the thread or None."""
    if not enabled():
        return None
    thread = threading.Thread(target=_send, args=(event(version),), name="dashly-analytics", daemon=True)
    thread.start()
    return thread
