#!/usr/bin/env python3
"""diagrams.py - renders the lessons' Mermaid diagrams to SVG, and checks them.

Usage:
  diagrams.py render [NAME ...]   render diagrams/*.mmd (or the named ones) to .svg
  diagrams.py check               every .svg is up to date with its .mmd, and every
                                  .mmd is embedded, word for word, in its lesson

render installs @mermaid-js/mermaid-cli from the npm registry into build/tools/mermaid
the first time (no browser download: Puppeteer's is skipped) and drives Debian's
Chromium (/usr/bin/chromium, or $CHROMIUM). Each SVG records the SHA-256 of the source it
was made from, so `check` needs neither node nor a browser: it runs in `make test`.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

KIT = Path(__file__).resolve().parents[2]
DIAGRAMS = KIT / "diagrams"
TOOLS = KIT / "build" / "tools" / "mermaid"
MMDC = TOOLS / "node_modules" / ".bin" / "mmdc"
STAMP = "pipeworks-source-sha256"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def digest(source):
    return hashlib.sha256(source.read_bytes()).hexdigest()


def install():
    if MMDC.exists():
        return
    if not shutil.which("npm"):
        sys.exit("diagrams: npm is needed to install @mermaid-js/mermaid-cli (Debian: apt-get install npm)")
    TOOLS.mkdir(parents=True, exist_ok=True)
    print("diagrams: installing @mermaid-js/mermaid-cli into build/tools/mermaid (once)")
    env = dict(os.environ, PUPPETEER_SKIP_DOWNLOAD="1")
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", str(TOOLS),
                    "@mermaid-js/mermaid-cli@12", "puppeteer@25"], env=env, check=True)


def render(names):
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        sys.exit("diagrams: Chromium is needed to render (Debian: apt-get install chromium), or set CHROMIUM")
    install()
    config = TOOLS / "puppeteer.json"
    config.write_text(json.dumps({"executablePath": chromium, "args": CHROMIUM_ARGS}))
    sources = [DIAGRAMS / f"{n}.mmd" for n in names] if names else sorted(DIAGRAMS.glob("*.mmd"))
    for src in sources:
        out = src.with_suffix(".svg")
        subprocess.run([str(MMDC), "-q", "-p", str(config), "-b", "white", "-i", str(src), "-o", str(out)], check=True)
        svg = out.read_text()
        # Record what it was made from, right after the opening tag.
        end = svg.index(">") + 1
        out.write_text(svg[:end] + f"<!-- {STAMP}: {digest(src)} -->" + svg[end:])
        print(f"diagrams: {src.name} -> {out.name}")
    return 0


def mermaid_blocks(text):
    return [m.group(1).strip() for m in re.finditer(r"```mermaid\n(.*?)```", text, re.S)]


def check():
    problems = []
    lessons = {p.stem: p.read_text() for p in (KIT / "lessons").glob("[0-9][0-9]-*.md")}
    for src in sorted(DIAGRAMS.glob("*.mmd")):
        rel = src.relative_to(KIT)
        svg = src.with_suffix(".svg")
        if not svg.exists():
            problems.append(f"{rel}: no {svg.name}; run `make diagrams`")
        else:
            m = re.search(STAMP + r": ([0-9a-f]{64})", svg.read_text())
            if not m or m.group(1) != digest(src):
                problems.append(f"{rel}: {svg.name} is older than its source; run `make diagrams`")
        slug = next((s for s in lessons if src.name.startswith(s + "-")), None)
        if slug is None:
            problems.append(f"{rel}: its name starts with no lesson's slug")
        elif src.read_text().strip() not in mermaid_blocks(lessons[slug]):
            problems.append(f"{rel}: lessons/{slug}.md does not embed this diagram (word for word, "
                            f"in a ```mermaid block)")
    for svg in sorted(DIAGRAMS.glob("*.svg")):
        if not svg.with_suffix(".mmd").exists():
            problems.append(f"{svg.relative_to(KIT)}: no .mmd source")
    for p in problems:
        print("diagrams: " + p)
    print(f"diagrams: {len(list(DIAGRAMS.glob('*.mmd')))} checked, {len(problems)} problems")
    return 1 if problems else 0


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("render", "check"):
        sys.exit(__doc__)
    sys.exit(render(sys.argv[2:]) if sys.argv[1] == "render" else check())


if __name__ == "__main__":
    main()
