"""Download browser drivers (geckodriver, chromedriver) for Selenium.

    import driverfetch
    path = driverfetch.install("geckodriver")

Downloads go to ~/.cache/driverfetch (DRIVERFETCH_CACHE) from
https://drivers.example.com (DRIVERFETCH_MIRROR) and are checked against the
SHA-256 digests in manifest.json.
"""

import hashlib
import io
import json
import os
import platform
import stat
import subprocess
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

__version__ = "4.0.2"
__all__ = ["install", "installed_path", "platform_key", "DriverFetchError"]

_MANIFEST = json.loads((Path(__file__).parent / "manifest.json").read_text(encoding="utf-8"))


class DriverFetchError(RuntimeError):
    pass


def platform_key():
    system = platform.system().lower()
    machine = platform.machine().lower()
    if system == "windows":
        return "windows-amd64"
    if machine in ("amd64", "x64"):
        machine = "x86_64"
    if machine == "arm64" and system == "linux":
        machine = "aarch64"
    return f"{system}-{machine}"


def _cache_dir():
    base = os.environ.get("DRIVERFETCH_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache"), "driverfetch")
    return Path(base)


def installed_path(driver="geckodriver"):
    entry = _MANIFEST["drivers"][driver]
    exe = driver + (".exe" if platform.system() == "Windows" else "")
    return _cache_dir() / driver / entry["version"] / exe


def _download(url, timeout):
    if not url.startswith("https://"):
        raise DriverFetchError(f"refusing to download over plain HTTP: {url}")
    request = urllib.request.Request(url, headers={"User-Agent": f"driverfetch/{__version__}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise DriverFetchError(
            f"could not download {url}: {exc}. Set DRIVERFETCH_MIRROR to a mirror you can reach."
        ) from exc


def install(driver="geckodriver", force=False, timeout=60):
    """Returns the path of a verified driver binary, downloading it if needed."""
    if driver not in _MANIFEST["drivers"]:
        raise DriverFetchError(f"unknown driver {driver!r}; known: {', '.join(_MANIFEST['drivers'])}")
    entry = _MANIFEST["drivers"][driver]
    key = platform_key()
    expected = entry["sha256"].get(key)
    if expected is None:
        raise DriverFetchError(f"no {driver} build for {key}")
    target = installed_path(driver)
    if target.exists() and not force:
        return target

    mirror = os.environ.get("DRIVERFETCH_MIRROR", _MANIFEST["mirror"]).rstrip("/")
    url = f"{mirror}/{driver}/{entry['version']}/{driver}-{key}.zip"
    archive = _download(url, timeout)
    digest = hashlib.sha256(archive).hexdigest()
    if digest != expected:
        raise DriverFetchError(f"checksum mismatch for {url}: expected {expected}, got {digest}")

    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        names = [n for n in zf.namelist() if not n.endswith("/")]
        if names != [target.name]:
            raise DriverFetchError(f"unexpected archive content: {names}")
        data = zf.read(names[0])
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".part")
    tmp.write_bytes(data)
    tmp.chmod(tmp.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    os.replace(tmp, target)

    try:
        out = subprocess.run([str(target), "--version"], capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.SubprocessError) as exc:
        target.unlink(missing_ok=True)
        raise DriverFetchError(f"downloaded {driver} does not run: {exc}") from exc
    if entry["version"] not in out.stdout:
        target.unlink(missing_ok=True)
        raise DriverFetchError(f"downloaded {driver} reports {out.stdout.strip()!r}, expected {entry['version']}")
    return target
