"""seed.py - the kit's own build, reused where the same files would be compiled again.

Usage: imported by classroom.py (make class's template) and tests/kit/reuse.py.

seed_build(dest) copies into dest/build/ the kit's objects and tools whose every source (as
the compiler listed them in the object's .d file) is byte-identical in dest and older than
the object in the kit: what make would build there from the same files, so make finds them
up to date. The learner's files are never seeded, so a submission is always compiled.
Only the Python 3 standard library is used.
"""
import os
import shutil
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
