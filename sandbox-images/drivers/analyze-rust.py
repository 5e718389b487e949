#!/usr/bin/env python3
"""Paddock's crates.io driver: install, import or execute one crate.

    analyze-rust.py PHASE NAME VERSION ARTIFACT

install: a fresh binary project in /app/project depends on the crate (the
extracted .crate, or NAME = "VERSION" from the registry) and `cargo build`
compiles it, running its build script. import: the project's main uses the
crate (`use name::*`) and runs, which runs the crate's link-time
constructors. execute: main calls every public function of the crate's root
module that takes no arguments, each under catch_unwind.
"""
import os
import re
import subprocess
import sys
import tarfile

APP = os.environ.get("PADDOCK_APP", "/app")
PROJECT = os.path.join(APP, "project")


def ident(name):
    return name.replace("-", "_")


def write_main(body):
    with open(os.path.join(PROJECT, "src", "main.rs"), "w") as f:
        f.write(body)


def install(name, version, artifact):
    if artifact:
        dest = os.path.join(APP, "crate")
        os.makedirs(dest, exist_ok=True)
        with tarfile.open(artifact) as t:
            safe = []
            for m in t.getmembers():
                parts = m.name.split("/")
                if m.name.startswith("/") or ".." in parts or not (m.isfile() or m.isdir()):
                    print(f"paddock: skipping unsafe archive member {m.name!r}", file=sys.stderr)
                    continue
                safe.append(m)
            t.extractall(dest, members=safe)
        roots = [d for d in os.listdir(dest) if os.path.isfile(os.path.join(dest, d, "Cargo.toml"))]
        if len(roots) != 1:
            print(f"paddock: {artifact} holds no single crate root", file=sys.stderr)
            return 1
        dep = '{ path = "%s" }' % os.path.join(dest, roots[0])
    else:
        dep = '"=%s"' % version
    if subprocess.call(["cargo", "init", "--quiet", "--vcs", "none", "--name", "paddock_analysis", PROJECT]) != 0:
        return 1
    with open(os.path.join(PROJECT, "Cargo.toml"), "a") as f:
        f.write('%s = %s\n' % (name, dep))
    write_main("fn main() {}\n")
    return subprocess.call(["cargo", "build", "--quiet"], cwd=PROJECT)


def run(body):
    write_main(body)
    return subprocess.call(["cargo", "run", "--quiet"], cwd=PROJECT)


def public_functions(name):
    """Public zero-argument functions at the root of the crate's lib.rs."""
    src = None
    crate = os.path.join(APP, "crate")
    for root, _dirs, files in os.walk(crate):
        if root.endswith("/src") and "lib.rs" in files:
            src = os.path.join(root, "lib.rs")
            break
    if src is None:
        return []
    with open(src, errors="replace") as f:
        text = f.read()
    return sorted(set(re.findall(r"(?m)^pub (?:unsafe )?fn ([A-Za-z_][A-Za-z0-9_]*)\s*\(\s*\)", text)))


def main(argv):
    if len(argv) != 5:
        print("usage: analyze-rust.py PHASE NAME VERSION ARTIFACT", file=sys.stderr)
        return 2
    phase, name, version, artifact = argv[1:]
    if phase == "install":
        return install(name, version, artifact)
    if not os.path.isfile(os.path.join(PROJECT, "Cargo.toml")):
        print(f"paddock: {name} is not installed", file=sys.stderr)
        return 1
    crate = ident(name)
    if phase == "import":
        return run("#[allow(unused_imports)]\nuse %s::*;\nfn main() {}\n" % crate)
    if phase == "execute":
        calls = "".join(
            '    if std::panic::catch_unwind(|| { let _ = %s::%s(); }).is_ok() { println!("paddock: called %s"); }\n'
            % (crate, f, f)
            for f in public_functions(name)
        )
        return run("#[allow(unused_imports)]\nuse %s::*;\nfn main() {\n%s}\n" % (crate, calls))
    print(f"paddock: unknown phase {phase}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
