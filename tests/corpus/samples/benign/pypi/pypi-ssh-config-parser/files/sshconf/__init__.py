"""Parse OpenSSH client configuration (ssh_config(5)).

    >>> from sshconf import SSHConfig
    >>> cfg = SSHConfig.load()          # ~/.ssh/config
    >>> cfg.lookup("build01")["hostname"]
"""

import fnmatch
import glob
import getpass
import os
import re
import shlex

__version__ = "1.0.4"
__all__ = ["SSHConfig"]

_MULTI = {"identityfile", "localforward", "remoteforward", "certificatefile", "sendenv"}


class SSHConfig:
    def __init__(self):
        # [(patterns, {option: value or [values]})] in file order
        self.blocks = [(["*"], {})]

    @classmethod
    def load(cls, path=None):
        cfg = cls()
        path = os.path.expanduser(path or "~/.ssh/config")
        if os.path.exists(path):
            cfg.read(path)
        return cfg

    @classmethod
    def from_text(cls, text):
        cfg = cls()
        cfg.parse(text.splitlines(), base_dir=os.path.expanduser("~/.ssh"))
        return cfg

    def read(self, path, _depth=0):
        with open(path, encoding="utf-8") as f:
            self.parse(f.read().splitlines(), base_dir=os.path.dirname(path), _depth=_depth)

    def parse(self, lines, base_dir, _depth=0):
        for raw in lines:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            m = re.match(r"(\S+?)(?:\s*=\s*|\s+)(.*)$", line)
            if not m:
                continue
            key, value = m.group(1).lower(), m.group(2).strip()
            if key == "host":
                self.blocks.append((shlex.split(value), {}))
            elif key == "match":
                # Only "Match all" is understood; other Match blocks are skipped.
                self.blocks.append((["*"] if value.lower() == "all" else [], {}))
            elif key == "include":
                if _depth > 8:
                    raise ValueError("sshconf: Include nested too deeply")
                for pattern in shlex.split(value):
                    pattern = os.path.expanduser(pattern)
                    if not os.path.isabs(pattern):
                        pattern = os.path.join(base_dir, pattern)
                    for included in sorted(glob.glob(pattern)):
                        self.read(included, _depth + 1)
            else:
                options = self.blocks[-1][1]
                if key in _MULTI:
                    options.setdefault(key, []).append(value)
                else:
                    options.setdefault(key, value)

    @staticmethod
    def _matches(host, patterns):
        matched = False
        for p in patterns:
            if p.startswith("!"):
                if fnmatch.fnmatchcase(host, p[1:]):
                    return False
            elif fnmatch.fnmatchcase(host, p):
                matched = True
        return matched

    def lookup(self, host):
        """Options for `host`: first value wins, as in OpenSSH."""
        result = {}
        for patterns, options in self.blocks:
            if not self._matches(host, patterns):
                continue
            for key, value in options.items():
                if key in _MULTI:
                    result.setdefault(key, [])
                    result[key] += [v for v in value if v not in result[key]]
                else:
                    result.setdefault(key, value)
        result.setdefault("hostname", host)
        result["hostname"] = result["hostname"].replace("%h", host)
        user = result.get("user", getpass.getuser())
        tokens = {"%h": result["hostname"], "%u": getpass.getuser(), "%r": user, "%%": "%"}
        if "identityfile" in result:
            files = []
            for f in result["identityfile"]:
                for token, value in tokens.items():
                    f = f.replace(token, value)
                files.append(os.path.expanduser(f))
            result["identityfile"] = files
        return result

    def hosts(self):
        return sorted({p for patterns, _ in self.blocks for p in patterns if not any(c in p for c in "*?!")})
