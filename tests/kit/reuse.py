"""reuse.py - what the kit's own heavy checks share instead of building it again.

Usage: imported by classroom_test.py and forgery_test.py (not run on its own).

A hand-out, a student's clone and a platform's copy of the kit compile the same test
sources, support library and tools with the same flags as the kit itself. What lets each
be compiled only once, none of which changes what is built or run:

  seed_build(dest)     (tests/grader/seed.py, which make class uses too) copies into
                       dest/build/ the kit's objects and tools whose every source is
                       byte-identical in dest and older than the object in the kit: what
                       make would build there from the same files. The learner's files are
                       never seeded, so a submission is always compiled.
  compile_cache(dir)   where ccache is installed: a folder to put first on PATH in which
                       g++ and c++ compile through ccache into a cache of this run's own,
                       so that the students' clones and the platforms' copies compile a
                       submission's identical file once.
  checks_env()         the environment those checks run their commands in: that PATH,
                       and no make variable of a make around them.
  gradescope_image(zip, root)  Gradescope's image of an autograder zip in root/source:
                       unpacked, seeded, and its setup.sh run (which builds the lessons'
                       tests into it; seeded, it finds them up to date).
Only the Python 3 standard library is used.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

KIT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(KIT / "tests" / "grader"))
from seed import seed_build  # noqa: E402,F401  (the hand-outs' and clones' build: see seed.py)


def compile_cache(folder):
    """Where ccache is installed: folder/bin holds g++ and c++ that compile through it into
    folder/cache (this run's own). -> the PATH to use (folder/bin first), or None."""
    ccache = shutil.which("ccache")
    if not ccache:
        return None
    folder = Path(folder)
    bindir = folder / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    (folder / "cache").mkdir(exist_ok=True)
    # The real compiler, never this folder's own wrapper (a check may run with it on PATH).
    search = os.pathsep.join(d for d in os.environ.get("PATH", os.defpath).split(os.pathsep)
                             if d and os.path.realpath(d) != os.path.realpath(bindir))
    for name in ("g++", "c++"):
        real = shutil.which(name, path=search)
        if not real:
            continue
        # The environment is set here, not inherited: a platform step strips it to PATH and
        # HOME. The kit compiles with relative paths; without the working directory in the
        # hash, every copy of the kit shares what one compiled. ccache hashes the locale
        # (the compiler's messages depend on it), and the lessons' commands run with
        # LC_ALL=C where a platform step has no locale at all: one locale for every copy.
        text = ("#!/bin/sh\n"
                "LANG=C LC_ALL=C LC_CTYPE=C LC_MESSAGES=C "
                f"CCACHE_DIR='{folder / 'cache'}' CCACHE_TEMPDIR='{folder / 'cache' / 'tmp'}' CCACHE_NOHASHDIR=1 "
                f"exec '{ccache}' '{os.path.realpath(real)}' \"$@\"\n")
        wrapper = bindir / name
        if wrapper.is_file() and wrapper.read_text() == text:
            continue
        # Written beside it and renamed over it: checks call this at the same time, and one
        # that writes the file while another runs it makes exec() fail ("Text file busy").
        fd, tmp = tempfile.mkstemp(dir=bindir, prefix=f".{name}.")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o755)
        os.replace(tmp, wrapper)
    return f"{folder / 'bin'}{os.pathsep}{os.environ.get('PATH', os.defpath)}"


CHECKS_CACHE = KIT / "build" / "checks-cache"


def checks_env():
    """The environment of the hand-out and platform checks: no make variable of a make
    around them changes what their makes do, and where ccache is installed they compile
    through the checks' cache (compile_cache)."""
    env = {k: v for k, v in os.environ.items() if k not in ("SRC", "LESSON", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env["PATH"] = compile_cache(CHECKS_CACHE) or env.get("PATH", os.defpath)
    return env


def gradescope_image(zip_path, root):
    """What Gradescope builds once per autograder zip, in root: the zip unpacked in
    root/source and its setup.sh run there, as when Gradescope builds the image (it
    installs only missing packages, then builds the lessons' tests). The kit's own objects
    of identical files are seeded first (seed_build), so that make finds them up to date
    and only the instructor's private tests are compiled. -> root/source"""
    source = Path(root) / "source"
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(source)
    seed_build(source)
    env = dict(checks_env(), AUTOGRADER_ROOT=str(root))
    r = subprocess.run(["bash", str(source / "setup.sh")], cwd=source, env=env, capture_output=True, text=True,
                       timeout=3600)  # ends only a hang
    if r.returncode != 0:
        raise AssertionError(f"setup.sh failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return source

