#!/usr/bin/env python3
"""lessons_check.py - keeps the lessons true to the kit.

Usage: lessons_check.py [--root DIR] [--only PART,...] [--lesson NN]

Checks, for every lessons/NN-topic.md:
  console  each ```console block is run and its output compared (see below);
  anchors  every link to a lesson section - in lessons, hints, README files, and the
           anchor argument of every explain()/section() call in the tests - names a real
           heading (GitHub's anchor rules);
  front    the lesson opens with its table: learning objectives, prerequisites,
           estimated time, out of scope;
  index    lessons/README.md lists the lesson.

Console blocks: a line starting with "$ " is a command; the lines after it, up to the next
command or the end of the block, are its expected output (stdout and stderr together).
The commands of one block run in order in one bash, from a scratch folder that mirrors
the kit's top level (so build/solutions/... resolve and scratch files stay out of the
kit). Expected output may use:
  <pid>, <n>   a whole number          <hex>  hexadecimal digits
  <any>        anything on that line   ...    (a line alone) any number of lines
Runs of spaces match any run of spaces (columns move with the width of a number).
A block preceded by the line <!-- norun --> is not run (a deliberate hang, a terminal).
Exit status 0 when everything holds; otherwise each problem is printed with its lesson
and line, and the exit status is 1.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from checklib import finish

PARTS = ("console", "anchors", "front", "index")
PLACEHOLDERS = {"<pid>": r"\d+", "<n>": r"-?\d+(?:\.\d+)?", "<hex>": r"[0-9a-fA-F]+", "<any>": r".*"}
# A block's deadline only ends a hang: under load (two busy loops on two cores) a hand-out's
# first `make -s LESSON=NN`, which builds the lesson from nothing, took over 120 s.
COMMAND_TIMEOUT = 1800
FRONT_ROWS = ("Learning objectives", "Prerequisites", "Estimated time", "Out of scope")


# ---- parsing -----------------------------------------------------------------------------

def fenced_blocks(text):
    """Yields (info, first_line_number, lines, norun) for each fenced block."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^(```+)\s*(\S*)", lines[i])
        if not m:
            i += 1
            continue
        fence, info, start = m.group(1), m.group(2), i
        prev = next((lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        body = []
        i += 1
        while i < len(lines) and not lines[i].startswith(fence):
            body.append(lines[i])
            i += 1
        i += 1
        yield info, start + 1, body, prev == "<!-- norun -->"


def github_anchor(heading):
    """GitHub's rule: lowercase, drop punctuation but hyphens and spaces, spaces to hyphens."""
    text = re.sub(r"`", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors_of(path):
    """Every heading anchor of a Markdown file, with GitHub's -1, -2 for repeats."""
    seen, out = {}, set()
    in_fence = False
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
        if in_fence:
            continue
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            base = github_anchor(m.group(1))
            n = seen.get(base, 0)
            out.add(base if n == 0 else f"{base}-{n}")
            seen[base] = n + 1
    return out


def call_arguments(source, start):
    """Top-level arguments of the call whose '(' is at source[start]; naive about C++,
    exact about strings, chars and nesting. Returns (args, end) or (None, start)."""
    depth, args, current, i = 0, [], [], start
    while i < len(source):
        c = source[i]
        if c in "\"'":
            j = i + 1
            while j < len(source) and source[j] != c:
                j += 2 if source[j] == "\\" else 1
            current.append(source[i:j + 1])
            i = j + 1
            continue
        if c in "([{":
            depth += 1
            if depth == 1:
                i += 1
                continue
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                args.append("".join(current).strip())
                return args, i
        elif c == "," and depth == 1:
            args.append("".join(current).strip())
            current = []
            i += 1
            continue
        current.append(c)
        i += 1
    return None, start


# ---- checks ---------------------------------------------------------------------------------

def expected_regex(lines):
    parts = []
    for line in lines:
        if line.strip() == "...":
            parts.append(r"(?:.*\n)*?")
            continue
        # Runs of spaces match any run of spaces: columns shift with the width of a pid.
        words = []
        for word in line.split():
            pattern = re.escape(word)
            for token, rx in PLACEHOLDERS.items():
                pattern = pattern.replace(re.escape(token), rx)
            words.append(pattern)
        indent = r"[ \t]*" if line[:1].isspace() else ""
        parts.append(indent + r"[ \t]+".join(words) + r"[ \t]*\n")
    return re.compile("".join(parts))


def scratch_mirror(root):
    """A temporary folder with links to the kit's top-level entries."""
    scratch = Path(tempfile.mkdtemp(prefix="pipeworks-lesson-"))
    # build/ must be a link too, even in a fresh clone or hand-out that has none yet: what
    # one block builds (make -s reference) the next block runs.
    (root / "build").mkdir(exist_ok=True)
    for entry in root.iterdir():
        if entry.name not in (".git",):
            os.symlink(entry.resolve(), scratch / entry.name)
    return scratch


def run_console_block(root, body):
    """Runs a block's commands in one bash; returns [(command, line_no, expected, actual)]."""
    commands = []
    for offset, line in enumerate(body):
        if line.startswith("$ "):
            commands.append([line[2:], offset, []])
        elif commands:
            commands[-1][2].append(line)
    if not commands:
        return []
    marker = "@@pipeworks-command-done@@"
    script = "".join(f"{c[0]}\n__pw=$?; printf '\\n{marker}\\n'; (exit $__pw)\n" for c in commands)
    scratch = scratch_mirror(root)
    # A learner's shell: no make of ours around it (its MAKEFLAGS would change what make prints).
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    env.update(LC_ALL="C", TERM="dumb")
    try:
        proc = subprocess.run(["bash", "-c", script], cwd=scratch, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=COMMAND_TIMEOUT)
        out = proc.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") + f"\n[timed out after {COMMAND_TIMEOUT} s]"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    pieces = out.split(f"\n{marker}\n")
    results = []
    for i, (cmd, offset, expected) in enumerate(commands):
        actual = pieces[i] if i < len(pieces) else "[no output: an earlier command did not finish]"
        results.append((cmd, offset, expected, actual))
    return results


def check_console(root, lesson):
    problems = []
    text = lesson.read_text()
    for info, line_no, body, norun in fenced_blocks(text):
        if info != "console" or norun:
            continue
        for cmd, offset, expected, actual in run_console_block(root, body):
            actual_text = actual if actual.endswith("\n") or not actual else actual + "\n"
            if not expected_regex(expected).fullmatch(actual_text):
                shown = "\n".join("      | " + l for l in actual_text.rstrip("\n").splitlines()) or "      | (nothing)"
                want = "\n".join("      | " + l for l in expected) or "      | (nothing)"
                problems.append(f"{lesson.relative_to(root)}:{line_no + 1 + offset}: `{cmd}` printed something "
                                f"else than the lesson shows.\n    the lesson shows:\n{want}\n    it printed:\n{shown}")
    return problems


LINK = re.compile(r"lessons/(\d\d-[a-z0-9-]+)\.md#([A-Za-z0-9_-]+)")


def check_anchors(root, lessons):
    problems = []
    known = {p.stem: anchors_of(p) for p in (root / "lessons").glob("[0-9][0-9]-*.md")}

    def check(where, slug, anchor):
        if slug not in known:
            problems.append(f"{where}: links to lessons/{slug}.md, which does not exist")
        elif anchor not in known[slug]:
            problems.append(f"{where}: lessons/{slug}.md has no heading with the anchor #{anchor}")

    docs = list((root / "lessons").glob("*.md")) + list((root / "lessons" / "hints").glob("*.md")) + \
        [p for p in (root / "README.md", root / "tests" / "README.md", root / "INSTRUCTORS.md") if p.exists()]
    for doc in docs:
        for n, line in enumerate(doc.read_text().splitlines(), 1):
            for m in LINK.finditer(line):
                check(f"{doc.relative_to(root)}:{n}", m.group(1), m.group(2))
            if doc.parent.name == "lessons" and doc.stem in known:
                for m in re.finditer(r"\]\(#([A-Za-z0-9_-]+)\)", line):
                    check(f"{doc.relative_to(root)}:{n}", doc.stem, m.group(1))
    # The tests: the anchor is the 4th argument of explain(...), section("...")'s only one,
    # pw::Why's topic("...")'s, or the 2nd of its cause(text, "..."); a named constant passed
    # there (const std::string step3 = "...") is checked where it is defined.
    where_anchor = {"explain": 3, "section": 0, "topic": 0, "cause": 1}
    for slug in lessons:
        for src in sorted((root / "tests" / slug).glob("*.cpp")) + sorted((root / "tests" / slug).glob("*.hpp")):
            code = src.read_text()
            constants = {m.group(1): (m.group(2), code.count("\n", 0, m.start()) + 1) for m in
                         re.finditer(r'const std::string (\w+) = "([^"\\]*)";', code)}
            for m in re.finditer(r"(?:\b(?=explain|section)|(?<=\.)(?=topic|cause))(\w+)\s*\(", code):
                if m.group(1) not in where_anchor:
                    continue
                args, _ = call_arguments(code, m.end() - 1)
                if not args:
                    continue
                index = where_anchor[m.group(1)]
                if len(args) <= index:
                    continue
                arg = args[index]
                if arg in constants and m.group(1) in ("topic", "cause"):
                    value, at = constants[arg]
                    check(f"{src.relative_to(root)}:{at}", slug, value)
                    continue
                line = code.count("\n", 0, m.start()) + 1
                lit = re.fullmatch(r'"([^"\\]*)"', arg)
                if lit:
                    check(f"{src.relative_to(root)}:{line}", slug, lit.group(1))
                elif m.group(1) == "explain" and not arg.startswith("pw::section") and "anchor" not in arg:
                    problems.append(f"{src.relative_to(root)}:{line}: the anchor argument of explain() should be "
                                    f"a string literal (it is {arg!r}), so that it can be checked")
            for m in LINK.finditer(code):
                check(f"{src.relative_to(root)}", m.group(1), m.group(2))
        # A catalogue mistake's "# Read: #anchor": the section its failure must link.
        for patch in sorted((root / "tests" / slug / "mistakes").glob("*.patch")):
            for m in re.finditer(r"^#\s*Read:\s*#?(\S+)", patch.read_text(), re.M):
                check(str(patch.relative_to(root)), slug, m.group(1))
    return problems


def check_front(root, lesson):
    head = "\n".join(lesson.read_text().splitlines()[:30])
    missing = [row for row in FRONT_ROWS if f"**{row}**" not in head]
    if missing:
        return [f"{lesson.relative_to(root)}: the opening table lacks: {', '.join(missing)}"]
    return []


def check_index(root, lesson):
    index = root / "lessons" / "README.md"
    if not index.exists():
        return ["lessons/README.md (the index of lessons) does not exist"]
    if f"({lesson.name})" not in index.read_text():
        return [f"lessons/README.md does not list {lesson.name}"]
    return []


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(Path(__file__).resolve().parents[2]))
    parser.add_argument("--only", type=lambda v: v.split(","), default=list(PARTS),
                        help="the parts to check, comma-separated: " + ",".join(PARTS) + " (default all)")
    parser.add_argument("--lesson")
    args = parser.parse_args()
    unknown = set(args.only) - set(PARTS)
    if unknown:
        parser.error(f"--only: no part {', '.join(sorted(unknown))}; the parts are {', '.join(PARTS)}")
    root = Path(args.root).resolve()
    lessons = sorted((root / "lessons").glob("[0-9][0-9]-*.md"))
    if args.lesson:
        lessons = [l for l in lessons if l.name.startswith(args.lesson.zfill(2))]
    problems = []
    for lesson in lessons:
        if "front" in args.only:
            problems += check_front(root, lesson)
        if "index" in args.only:
            problems += check_index(root, lesson)
        if "console" in args.only:
            problems += check_console(root, lesson)
    if "anchors" in args.only:
        problems += check_anchors(root, [l.stem for l in lessons])
    return finish("lessons", problems, f"{len(lessons)} checked, {len(problems)} problems")


if __name__ == "__main__":
    sys.exit(main())
