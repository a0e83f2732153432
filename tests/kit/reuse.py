"""reuse.py - what the kit's own heavy checks share instead of building it again.

Usage: imported by classroom_test.py and forgery_test.py (not run on its own).

A hand-out, a student's clone and a platform's copy of the kit compile the same test
sources, support library and tools with the same flags as the kit itself. Two ways to
compile each only once, neither of which changes what is built or run:

  seed_build(dest)     copies into dest/build/ the kit's objects and tools whose every
                       source (as the compiler listed them in the object's .d file) is
                       byte-identical in dest and older than the object in the kit: what
                       make would build there from the same files. The learner's files are
                       never seeded, so a submission is always compiled.
  compile_cache(dir)   where ccache is installed: a folder to put first on PATH in which
                       g++ and c++ compile through ccache into a cache of this run's own,
                       so that Gradescope's run_autograder (which starts from an empty
                       build/) and every other copy compile an identical file once.
  checks_env()         the environment those checks run their commands in: that PATH,
                       and no make variable of a make around them.
Only the Python 3 standard library is used.
"""
import os
import shutil
import tempfile
import time
from pathlib import Path

KIT = Path(__file__).resolve().parents[2]
# What is seeded: the kit's shared objects (test objects, support library, lesson tools)
# and the objects of the learner tools a lesson's `make LESSON=NN` builds, all compiled with
# -Werror, so that compiling them again could print nothing; dest links them (the tools'
# programs have no .d file to compare). Never build/exercises/ or build/solutions/: a
# tree's own files, compiled without -Werror, whose warnings a learner's first make shows.
SEEDED = ("build/shared/sandbox", "build/shared/tests", "build/shared/tools", "build/shared/pipemap",
          "build/shared/pipetrace")
LIBRARY = Path("build/shared/sandbox/libpipeworks_sandbox.a")


def dependencies(dep_file):
    """The files a .d file (gcc -MMD -MP) says its target was built from."""
    text = dep_file.read_text().replace("\\\n", " ")
    first = text.split("\n", 1)[0]
    _, _, deps = first.partition(": ")
    return deps.split()


def up_to_date_and_same(product, deps, dest):
    """product (kit-relative) is newer than each dependency in the kit, and each dependency
    has the same bytes in dest."""
    built = (KIT / product).stat().st_mtime
    for dep in deps:
        mine, theirs = KIT / dep, dest / dep
        if Path(dep).is_absolute() or not mine.is_file() or not theirs.is_file():
            return False
        if mine.stat().st_mtime > built or mine.read_bytes() != theirs.read_bytes():
            return False
    return True


def seed_build(dest):
    """Seeds dest/build/ from the kit's build/ (see the module's doc). Every seeded file gets
    one time, now, so that make finds each up to date with its sources in dest (written
    before) and the library no older than its objects. -> the number of files seeded."""
    dest = Path(dest)
    chosen = []  # (product, its .d file)
    for top in SEEDED:
        if not (KIT / top).is_dir():
            continue
        for dep_file in sorted((KIT / top).rglob("*.d")):
            product = dep_file.with_suffix(".o") if dep_file.with_suffix(".o").is_file() else dep_file.with_suffix("")
            if not product.is_file():
                continue
            rel = product.relative_to(KIT)
            if up_to_date_and_same(rel, dependencies(dep_file), dest):
                chosen.append((rel, dep_file.relative_to(KIT)))
    # The library only when every object of it is seeded and dest has no other source for it.
    support = sorted(p.stem for p in (dest / "tests/sandbox").glob("*.cpp"))
    seeded = {p.as_posix() for p, _ in chosen}
    library = (KIT / LIBRARY).is_file() and support and all(
        f"build/shared/sandbox/{s}.o" in seeded and (KIT / f"build/shared/sandbox/{s}.o").stat().st_mtime
        <= (KIT / LIBRARY).stat().st_mtime for s in support)
    files = [f for pair in chosen for f in pair]
    if library:
        files.append(LIBRARY)
    now = time.time()
    for rel in files:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(KIT / rel, dest / rel)  # with its mode: a tool stays executable
        os.utime(dest / rel, (now, now))
    return len(files)


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

