#!/usr/bin/env python3
"""Builds the development corpus: one artifact per sample, and labels.json.

    python3 tests/corpus/build.py OUT_DIR [--only ID ...]

Every sample under tests/corpus/samples/<label>/<ecosystem>/<id>/ (a
sample.toml and a files/ tree, see README.md) becomes
OUT_DIR/<ecosystem>/<artifact>, packed the way its registry serves it:

    npm        <name>-<version>.tgz            every path under package/
               (scoped @s/x -> s-x-<version>.tgz)
    pypi       <name>-<version>.tar.gz         under <name>-<version>/, with a
                                               PKG-INFO when files/ has none
    rubygems   <name>-<version>.gem            metadata.gz, data.tar.gz,
                                               checksums.yaml.gz
    packagist  <vendor>-<name>-<version>.zip   files at the top
    crates.io  <name>-<version>.crate          under <name>-<version>/

and OUT_DIR/labels.json lists {file, ecosystem, label, technique, id} for
every artifact built (file relative to OUT_DIR, technique joined with ",").

Archives are reproducible: entries sorted, mtime 2024-01-01T00:00:00Z, owner
0 with empty names, mode 0644 (0755 for files executable in the tree), gzip
with mtime 0 and no file name. Building the same tree twice gives the same
bytes.

Samples are only read and packed here, never run or imported. Every sample
is checked before anything is written; a sample.toml missing a field, an id
that is not its directory's name, an ecosystem or label that is not its
parent directory's, or a manifest (package.json, composer.json, Cargo.toml,
setup.py, setup.cfg, pyproject.toml, PKG-INFO, *.gemspec) whose name or
version disagrees with sample.toml stops the build with a message naming
the sample.

Standard library only (Python 3.11).
"""

from __future__ import annotations

import argparse
import ast
import configparser
import gzip
import hashlib
import io
import json
import os
import re
import stat
import sys
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLES = HERE / "samples"

LABELS = ("malicious", "benign")
ECOSYSTEMS = ("npm", "pypi", "rubygems", "packagist", "crates.io")

# 2024-01-01T00:00:00Z
MTIME = 1704067200
ZIP_DATE = (2024, 1, 1, 0, 0, 0)

REQUIRED = {
    "id": str,
    "ecosystem": str,
    "name": str,
    "version": str,
    "label": str,
    "technique": list,
    "incident": str,
    "references": list,
    "notes": str,
}
OPTIONAL = {
    "extensions": list,
    "require_paths": list,
    "authors": list,
    "summary": str,
    "homepage": str,
    "license": str,
    "registry": dict,
}


class SampleError(Exception):
    """A problem with one sample; the message names it."""


@dataclass
class Sample:
    dir: Path
    meta: dict
    files: list[tuple[str, Path]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.meta["id"]

    @property
    def eco(self) -> str:
        return self.meta["ecosystem"]

    @property
    def name(self) -> str:
        return self.meta["name"]

    @property
    def version(self) -> str:
        return self.meta["version"]

    def rel(self) -> str:
        return self.dir.relative_to(HERE).as_posix()


# --------------------------------------------------------------------------
# Reading and checking samples


def discover() -> tuple[list[Path], list[str]]:
    """Sample directories, and problems with the layout itself."""
    dirs: list[Path] = []
    problems: list[str] = []
    if not SAMPLES.is_dir():
        return dirs, [f"{SAMPLES} does not exist"]
    for label_dir in sorted(SAMPLES.iterdir()):
        if not label_dir.is_dir():
            continue
        if label_dir.name not in LABELS:
            problems.append(
                f"samples/{label_dir.name}: not a label (expected one of {', '.join(LABELS)})"
            )
            continue
        for eco_dir in sorted(label_dir.iterdir()):
            if not eco_dir.is_dir():
                continue
            if eco_dir.name not in ECOSYSTEMS:
                problems.append(
                    f"samples/{label_dir.name}/{eco_dir.name}: not an ecosystem "
                    f"(expected one of {', '.join(ECOSYSTEMS)})"
                )
                continue
            for sample_dir in sorted(eco_dir.iterdir()):
                if sample_dir.is_dir():
                    dirs.append(sample_dir)
    return dirs, problems


def load(sample_dir: Path) -> Sample:
    where = sample_dir.relative_to(HERE).as_posix()
    toml_path = sample_dir / "sample.toml"
    if not toml_path.is_file():
        raise SampleError(f"{where}: no sample.toml")
    try:
        meta = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise SampleError(f"{where}/sample.toml: not valid TOML: {e}") from None

    problems = []
    for key, kind in REQUIRED.items():
        if key not in meta:
            problems.append(f"missing field `{key}`")
        elif not isinstance(meta[key], kind):
            problems.append(f"`{key}` must be a {kind.__name__}")
        elif kind is str and not meta[key].strip():
            problems.append(f"`{key}` is empty")
    for key, kind in OPTIONAL.items():
        if key in meta and not isinstance(meta[key], kind):
            problems.append(f"`{key}` must be a {kind.__name__}")
    for key in ("technique", "references", "extensions", "require_paths", "authors"):
        value = meta.get(key)
        if isinstance(value, list) and not all(isinstance(v, str) and v for v in value):
            problems.append(f"`{key}` must be a list of non-empty strings")
    if isinstance(meta.get("technique"), list) and not meta["technique"]:
        problems.append("`technique` is empty")
    if problems:
        raise SampleError(f"{where}/sample.toml: " + "; ".join(problems))

    label_dir = sample_dir.parent.parent.name
    eco_dir = sample_dir.parent.name
    if meta["id"] != sample_dir.name:
        problems.append(f"id `{meta['id']}` is not the directory name `{sample_dir.name}`")
    if meta["ecosystem"] != eco_dir:
        problems.append(
            f"ecosystem `{meta['ecosystem']}` does not match its directory `{eco_dir}`"
        )
    if meta["label"] != label_dir:
        problems.append(f"label `{meta['label']}` does not match its directory `{label_dir}`")
    if meta["ecosystem"] != "rubygems":
        for key in ("extensions", "require_paths"):
            if key in meta:
                problems.append(f"`{key}` is for RubyGems samples only")
    unknown = sorted(set(meta) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        print(
            f"warning: {where}/sample.toml: unknown field(s) {', '.join(unknown)} (ignored)",
            file=sys.stderr,
        )
    if problems:
        raise SampleError(f"{where}/sample.toml: " + "; ".join(problems))

    sample = Sample(sample_dir, meta)
    sample.files = tree(sample)
    check_name(sample)
    check_manifests(sample)
    return sample


def tree(sample: Sample) -> list[tuple[str, Path]]:
    """Every file (and symlink) under files/, as (posix path, path), sorted."""
    root = sample.dir / "files"
    if not root.is_dir():
        raise SampleError(f"{sample.rel()}: no files/ directory")
    out = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(dirpath)
        # Symlinks to directories are listed in dirnames: pack them as links.
        for name in dirnames + filenames:
            path = base / name
            mode = path.lstat().st_mode
            if stat.S_ISDIR(mode):
                continue
            if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
                raise SampleError(
                    f"{sample.rel()}: files/{path.relative_to(root).as_posix()} "
                    "is neither a file nor a symlink"
                )
            out.append((path.relative_to(root).as_posix(), path))
    if not out:
        raise SampleError(f"{sample.rel()}: files/ is empty")
    out.sort(key=lambda entry: entry[0])
    return out


def check_name(sample: Sample) -> None:
    eco, name, version = sample.eco, sample.name, sample.version
    bad = []
    if any(c in version for c in "/\\ ") or not version:
        bad.append(f"version `{version}` cannot be part of a file name")
    if eco == "npm":
        if not re.fullmatch(r"(@[a-z0-9][\w.~-]*/)?[a-z0-9._~-][\w.~-]*", name, re.I):
            bad.append(f"`{name}` is not an npm package name")
    elif eco == "packagist":
        if name.count("/") != 1 or not all(name.split("/")):
            bad.append(f"Packagist name `{name}` is not `vendor/name`")
    elif "/" in name or "\\" in name or not name.strip():
        bad.append(f"`{name}` is not a {eco} package name")
    if bad:
        raise SampleError(f"{sample.rel()}/sample.toml: " + "; ".join(bad))


def pep503(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def check_manifests(sample: Sample) -> None:
    """The names and versions the package's own manifests declare."""
    files = dict(sample.files)
    problems: list[str] = []

    def text(rel: str) -> str:
        try:
            return files[rel].read_text(encoding="utf-8")
        except UnicodeDecodeError:
            problems.append(f"{rel} is not UTF-8")
            return ""

    def compare(rel: str, what: str, declared, expected: str, same=lambda a, b: a == b):
        if isinstance(declared, str) and declared and not same(declared, expected):
            problems.append(f"{rel} declares {what} `{declared}`, sample.toml says `{expected}`")

    eco = sample.eco
    if eco == "npm":
        if "package.json" not in files:
            problems.append("files/ has no package.json")
        else:
            try:
                doc = json.loads(text("package.json"))
            except json.JSONDecodeError as e:
                problems.append(f"package.json is not valid JSON: {e}")
                doc = {}
            if not isinstance(doc, dict):
                doc = {}
            if not doc.get("name") or not doc.get("version"):
                problems.append("package.json declares no name or no version")
            compare("package.json", "name", doc.get("name"), sample.name)
            compare("package.json", "version", doc.get("version"), sample.version)
    elif eco == "packagist":
        if "composer.json" not in files:
            problems.append("files/ has no composer.json")
        else:
            try:
                doc = json.loads(text("composer.json"))
            except json.JSONDecodeError as e:
                problems.append(f"composer.json is not valid JSON: {e}")
                doc = {}
            if not isinstance(doc, dict):
                doc = {}
            if not doc.get("name"):
                problems.append("composer.json declares no name")
            compare("composer.json", "name", doc.get("name"), sample.name,
                    lambda a, b: a.lower() == b.lower())
            compare("composer.json", "version", doc.get("version"), sample.version,
                    lambda a, b: a.lstrip("v") == b.lstrip("v"))
    elif eco == "crates.io":
        if "Cargo.toml" not in files:
            problems.append("files/ has no Cargo.toml")
        else:
            try:
                doc = tomllib.loads(text("Cargo.toml"))
            except tomllib.TOMLDecodeError as e:
                problems.append(f"Cargo.toml is not valid TOML: {e}")
                doc = {}
            package = doc.get("package")
            if not isinstance(package, dict):
                problems.append("Cargo.toml has no [package] table")
            else:
                compare("Cargo.toml", "name", package.get("name"), sample.name,
                        lambda a, b: a.replace("-", "_") == b.replace("-", "_"))
                compare("Cargo.toml", "version", package.get("version"), sample.version)
    elif eco == "pypi":
        same_name = lambda a, b: pep503(a) == pep503(b)  # noqa: E731
        if not any(f in files for f in ("setup.py", "pyproject.toml", "setup.cfg", "PKG-INFO")):
            problems.append("files/ has none of setup.py, pyproject.toml, setup.cfg, PKG-INFO")
        if "PKG-INFO" in files:
            headers = rfc822(text("PKG-INFO"))
            for key in ("Name", "Version"):
                if key not in headers:
                    problems.append(f"PKG-INFO has no {key}:")
            compare("PKG-INFO", "name", headers.get("Name"), sample.name, same_name)
            compare("PKG-INFO", "version", headers.get("Version"), sample.version)
        if "pyproject.toml" in files:
            try:
                doc = tomllib.loads(text("pyproject.toml"))
            except tomllib.TOMLDecodeError as e:
                problems.append(f"pyproject.toml is not valid TOML: {e}")
                doc = {}
            project = doc.get("project") if isinstance(doc.get("project"), dict) else {}
            compare("pyproject.toml", "name", project.get("name"), sample.name, same_name)
            compare("pyproject.toml", "version", project.get("version"), sample.version)
        if "setup.cfg" in files:
            cfg = configparser.ConfigParser(interpolation=None)
            try:
                cfg.read_string(text("setup.cfg"))
            except configparser.Error as e:
                problems.append(f"setup.cfg does not parse: {e}")
            if cfg.has_section("metadata"):
                compare("setup.cfg", "name", cfg["metadata"].get("name"), sample.name, same_name)
                compare("setup.cfg", "version", cfg["metadata"].get("version"), sample.version)
        if "setup.py" in files:
            try:
                declared = setup_py_args(text("setup.py"))
            except SyntaxError as e:
                problems.append(f"setup.py does not parse: {e}")
                declared = {}
            compare("setup.py", "name", declared.get("name"), sample.name, same_name)
            compare("setup.py", "version", declared.get("version"), sample.version)
    elif eco == "rubygems":
        for rel in files:
            if "/" not in rel and rel.endswith(".gemspec"):
                body = text(rel)
                for what, expected in (("name", sample.name), ("version", sample.version)):
                    m = re.search(r"\.%s\s*=\s*(['\"])([^'\"#{}]+)\1" % what, body)
                    if m:
                        compare(rel, what, m.group(2), expected)
        for ext in sample.meta.get("extensions", []):
            if ext not in files:
                problems.append(f"extension `{ext}` (sample.toml) is not in files/")
    if problems:
        raise SampleError(f"{sample.rel()}: " + "; ".join(problems))


def rfc822(body: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in body.splitlines():
        if not line.strip():
            break
        if ":" in line and not line[0].isspace():
            key, _, value = line.partition(":")
            headers.setdefault(key.strip(), value.strip())
    return headers


def setup_py_args(source: str) -> dict[str, str]:
    """name= and version= of setup(...) where they are string literals or
    module-level constants (NAME = "x"). Parsed, never run."""
    module = ast.parse(source)
    constants: dict[str, str] = {}
    for node in module.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    constants[target.id] = node.value.value
    out: dict[str, str] = {}
    for node in ast.walk(module):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if called != "setup":
            continue
        for kw in node.keywords:
            if kw.arg not in ("name", "version"):
                continue
            if isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                out[kw.arg] = kw.value.value
            elif isinstance(kw.value, ast.Name) and kw.value.id in constants:
                out[kw.arg] = constants[kw.value.id]
    return out


# --------------------------------------------------------------------------
# Archives


def gz(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as f:
        f.write(data)
    return buf.getvalue()


def file_mode(path: Path) -> int:
    return 0o755 if path.lstat().st_mode & 0o111 else 0o644


def tar_bytes(entries: list[tuple[str, Path | bytes]], prefix: str = "") -> bytes:
    """An uncompressed tar of entries (archive path, source file or bytes),
    in the given order, each path under `prefix`."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel, src in entries:
            info = tarfile.TarInfo(prefix + rel)
            info.mtime = MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if isinstance(src, bytes):
                info.mode = 0o644
                info.size = len(src)
                tar.addfile(info, io.BytesIO(src))
            elif src.is_symlink():
                info.type = tarfile.SYMTYPE
                info.linkname = os.readlink(src)
                info.mode = 0o777
                tar.addfile(info)
            else:
                data = src.read_bytes()
                info.mode = file_mode(src)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def zip_bytes(entries: list[tuple[str, Path]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for rel, src in entries:
            info = zipfile.ZipInfo(rel, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the permission bits are read
            if src.is_symlink():
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                z.writestr(info, os.readlink(src).encode())
            else:
                info.external_attr = (stat.S_IFREG | file_mode(src)) << 16
                z.writestr(info, src.read_bytes())
    return buf.getvalue()


def first_sentence(notes: str) -> str:
    flat = " ".join(notes.split())
    m = re.match(r"(.+?[.!?])(\s|$)", flat)
    return (m.group(1) if m else flat)[:200]


def pkg_info(sample: Sample) -> bytes:
    summary = sample.meta.get("summary") or first_sentence(sample.meta["notes"])
    return (
        "Metadata-Version: 2.1\n"
        f"Name: {sample.name}\n"
        f"Version: {sample.version}\n"
        f"Summary: {summary}\n"
    ).encode()


def yaml_str(s: str) -> str:
    """A YAML scalar for s: plain when unambiguous, else double-quoted."""
    if re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_./+@ -]*", s) and not s.endswith(" ") and s.lower() not in (
        "true", "false", "yes", "no", "on", "off", "null", "~"
    ) and not re.fullmatch(r"[0-9.+-]+", s):
        return s
    return json.dumps(s)


def yaml_list(items: list[str]) -> str:
    if not items:
        return " []\n"
    return "\n" + "".join(f"- {yaml_str(i)}\n" for i in items)


def gemspec_yaml(sample: Sample) -> bytes:
    meta = sample.meta
    paths = [rel for rel, _ in sample.files]
    summary = meta.get("summary") or first_sentence(meta["notes"])
    authors = meta.get("authors") or ["Paddock corpus"]
    homepage = meta.get("homepage")
    licenses = [meta["license"]] if meta.get("license") else []
    executables = sorted(p[len("bin/"):] for p in paths if p.startswith("bin/") and "/" not in p[4:])
    any_version = (
        "  requirements:\n"
        "  - - \">=\"\n"
        "    - !ruby/object:Gem::Version\n"
        "      version: '0'\n"
    )
    yaml = (
        "--- !ruby/object:Gem::Specification\n"
        f"name: {sample.name}\n"
        "version: !ruby/object:Gem::Version\n"
        f"  version: {sample.version}\n"
        "platform: ruby\n"
        f"authors:{yaml_list(authors)}"
        "autorequire:\n"
        "bindir: bin\n"
        "cert_chain: []\n"
        "date: 2024-01-01 00:00:00.000000000 Z\n"
        "dependencies: []\n"
        f"description: {yaml_str(summary)}\n"
        "email:\n"
        f"executables:{yaml_list(executables)}"
        f"extensions:{yaml_list(meta.get('extensions', []))}"
        "extra_rdoc_files: []\n"
        f"files:{yaml_list(paths)}"
        f"homepage:{' ' + yaml_str(homepage) if homepage else ''}\n"
        f"licenses:{yaml_list(licenses)}"
        "metadata: {}\n"
        "post_install_message:\n"
        "rdoc_options: []\n"
        f"require_paths:{yaml_list(meta.get('require_paths') or ['lib'])}"
        "required_ruby_version: !ruby/object:Gem::Requirement\n"
        f"{any_version}"
        "required_rubygems_version: !ruby/object:Gem::Requirement\n"
        f"{any_version}"
        "requirements: []\n"
        "rubygems_version: 3.4.0\n"
        "signing_key:\n"
        "specification_version: 4\n"
        f"summary: {yaml_str(summary)}\n"
        "test_files: []\n"
    )
    return yaml.encode()


def gem_bytes(sample: Sample) -> bytes:
    metadata = gz(gemspec_yaml(sample))
    data = gz(tar_bytes(sample.files))
    digests = {"metadata.gz": metadata, "data.tar.gz": data}
    checksums = "---\n"
    for algo in ("SHA256", "SHA512"):
        checksums += f"{algo}:\n"
        for name, body in digests.items():
            checksums += f"  {name}: {hashlib.new(algo.lower(), body).hexdigest()}\n"
    # The order `gem build` writes them in.
    return tar_bytes(
        [
            ("metadata.gz", metadata),
            ("data.tar.gz", data),
            ("checksums.yaml.gz", gz(checksums.encode())),
        ]
    )


def artifact_name(sample: Sample) -> str:
    name, version = sample.name, sample.version
    match sample.eco:
        case "npm":
            return f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"
        case "pypi":
            return f"{name}-{version}.tar.gz"
        case "rubygems":
            return f"{name}-{version}.gem"
        case "packagist":
            return f"{name.replace('/', '-')}-{version}.zip"
        case "crates.io":
            return f"{name}-{version}.crate"
    raise AssertionError(sample.eco)


def build(sample: Sample) -> bytes:
    match sample.eco:
        case "npm":
            return gz(tar_bytes(sample.files, "package/"))
        case "pypi":
            top = f"{sample.name}-{sample.version}/"
            entries: list[tuple[str, Path | bytes]] = list(sample.files)
            if "PKG-INFO" not in dict(sample.files):
                entries.append(("PKG-INFO", pkg_info(sample)))
                entries.sort(key=lambda e: e[0])
            return gz(tar_bytes(entries, top))
        case "rubygems":
            return gem_bytes(sample)
        case "packagist":
            return zip_bytes(sample.files)
        case "crates.io":
            return gz(tar_bytes(sample.files, f"{sample.name}-{sample.version}/"))
    raise AssertionError(sample.eco)


# --------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description="Build the corpus artifacts and labels.json into OUT_DIR."
    )
    parser.add_argument("out_dir", metavar="OUT_DIR", type=Path)
    parser.add_argument(
        "--only",
        metavar="ID",
        nargs="+",
        action="extend",
        default=[],
        help="build only these sample ids (repeatable)",
    )
    args = parser.parse_args(argv)

    dirs, problems = discover()
    if args.only:
        wanted = set(args.only)
        dirs = [d for d in dirs if d.name in wanted]
        missing = sorted(wanted - {d.name for d in dirs})
        problems += [f"--only {m}: no sample with that id" for m in missing]

    samples: list[Sample] = []
    for d in dirs:
        try:
            samples.append(load(d))
        except SampleError as e:
            problems.append(str(e))

    seen_ids: dict[str, Sample] = {}
    seen_files: dict[str, Sample] = {}
    for s in samples:
        if s.id in seen_ids:
            problems.append(f"{s.rel()}: id `{s.id}` is also used by {seen_ids[s.id].rel()}")
        seen_ids.setdefault(s.id, s)
        out = f"{s.eco}/{artifact_name(s)}"
        if out in seen_files:
            problems.append(f"{s.rel()}: builds {out}, as {seen_files[out].rel()} does")
        seen_files.setdefault(out, s)

    if problems:
        for p in problems:
            print(f"error: {p}", file=sys.stderr)
        print(f"error: {len(problems)} problem(s); nothing was built", file=sys.stderr)
        return 1
    if not samples:
        print("error: no samples found", file=sys.stderr)
        return 1

    out_dir: Path = args.out_dir
    labels = []
    counts: dict[str, dict[str, int]] = {e: {l: 0 for l in LABELS} for e in ECOSYSTEMS}
    for s in sorted(samples, key=lambda s: (s.eco, artifact_name(s))):
        rel = f"{s.eco}/{artifact_name(s)}"
        target = out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(build(s))
        labels.append(
            {
                "file": rel,
                "ecosystem": s.eco,
                "label": s.meta["label"],
                "technique": ",".join(s.meta["technique"]),
                "id": s.id,
            }
        )
        counts[s.eco][s.meta["label"]] += 1
    (out_dir / "labels.json").write_text(json.dumps(labels, indent=2) + "\n", encoding="utf-8")

    for eco in ECOSYSTEMS:
        c = counts[eco]
        if c["malicious"] or c["benign"]:
            print(f"{eco:10} {c['malicious']:3} malicious {c['benign']:3} benign")
    total_m = sum(c["malicious"] for c in counts.values())
    total_b = sum(c["benign"] for c in counts.values())
    print(f"{'total':10} {total_m:3} malicious {total_b:3} benign -> {out_dir}/labels.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
