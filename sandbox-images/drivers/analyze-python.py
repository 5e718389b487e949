#!/usr/bin/env python3
"""Paddock's PyPI driver: install, import or execute one package.

    analyze-python.py PHASE NAME VERSION ARTIFACT

Runs inside the sandbox. Arguments are read by position (no argparse) so
that the trace holds as little of the driver's own work as possible.
Exit 0: the phase completed; anything else: the package failed it.
"""
import asyncio
import importlib
import importlib.metadata
import inspect
import os
import signal
import subprocess
import sys

CALL_TIMEOUT = int(os.environ.get("PADDOCK_CALL_TIMEOUT", "5"))


def install(name, version, artifact):
    cmd = [
        sys.executable, "-m", "pip", "install",
        "--user", "--break-system-packages", "--no-build-isolation",
        "--no-cache-dir", "--disable-pip-version-check", "--no-input",
        "--progress-bar", "off", "--retries", "0", "--timeout", "10",
        artifact or f"{name}=={version}",
    ]
    return subprocess.call(cmd)


def modules(name):
    """Every module the installed distribution ships, as dotted names."""
    try:
        files = importlib.metadata.files(name) or []
    except importlib.metadata.PackageNotFoundError:
        print(f"paddock: {name} is not installed", file=sys.stderr)
        return None
    out = []
    for f in files:
        path = str(f)
        if not path.endswith(".py") or path.startswith(".."):
            continue
        parts = path[:-3].split("/")
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts and all(p.isidentifier() for p in parts):
            out.append(".".join(parts))
    return sorted(set(out))


def import_all(name):
    mods = modules(name)
    if mods is None:
        return None
    loaded = []
    for m in mods:
        try:
            loaded.append(importlib.import_module(m))
            print(f"paddock: imported {m}")
        except BaseException as e:  # the package's errors are data
            print(f"paddock: importing {m} failed: {type(e).__name__}: {e}", file=sys.stderr)
    return loaded


class _Alarm(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Alarm()


def _dummy_args(fn):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    from unittest.mock import MagicMock
    kwargs = {}
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.default is not p.empty:
            continue
        if p.name == "self":
            continue
        kwargs[p.name] = MagicMock()
    return kwargs


def _call(label, fn):
    kwargs = _dummy_args(fn)
    if kwargs is None:
        return None
    signal.alarm(CALL_TIMEOUT)
    try:
        result = fn(**kwargs)
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
        elif inspect.isgenerator(result):
            for _ in zip(range(1000), result):
                pass
        print(f"paddock: called {label}")
        return result
    except BaseException as e:
        print(f"paddock: calling {label} failed: {type(e).__name__}: {e}", file=sys.stderr)
        return None
    finally:
        signal.alarm(0)


def execute(name):
    loaded = import_all(name)
    if loaded is None:
        return 1
    signal.signal(signal.SIGALRM, _on_alarm)
    for mod in loaded:
        for attr, obj in inspect.getmembers(mod):
            if attr.startswith("_") or getattr(obj, "__module__", None) != mod.__name__:
                continue
            if inspect.isclass(obj):
                instance = _call(f"{mod.__name__}.{attr}()", obj)
                if instance is None:
                    continue
                for mname, method in inspect.getmembers(instance, inspect.ismethod):
                    if not mname.startswith("_"):
                        _call(f"{mod.__name__}.{attr}.{mname}", method)
            elif inspect.isfunction(obj) or inspect.iscoroutinefunction(obj):
                _call(f"{mod.__name__}.{attr}", obj)
    return 0


def main(argv):
    if len(argv) != 5:
        print("usage: analyze-python.py PHASE NAME VERSION ARTIFACT", file=sys.stderr)
        return 2
    phase, name, version, artifact = argv[1:]
    if phase == "install":
        return install(name, version, artifact)
    if phase == "import":
        return 0 if import_all(name) is not None else 1
    if phase == "execute":
        return execute(name)
    print(f"paddock: unknown phase {phase}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
