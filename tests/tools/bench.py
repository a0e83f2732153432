#!/usr/bin/env python3
"""bench.py - lesson 06's measurements: pipes, socketpairs, Unix sockets and TCP on
127.0.0.1, side by side, with the floors no transport can beat.

Usage: python3 tests/tools/bench.py [--bin DIR] [--out DIR] [--reps N] [--only PARTS]
       (or simply: make bench, which builds the reference solutions first)

For every transport it runs the reference programs of lesson 06 (--json):
  latency     pingpong, messages of 64 B, 4 KiB and 64 KiB, both processes on the same
              CPU and on two different CPUs (--pin same / cross)
  throughput  blast, 256 MiB in 64 KiB writes, same CPU and cross CPU; the pipe once
              more with a 1 MiB buffer (--pipe-size), and (Linux) with the advanced
              --splice sender (vmsplice), with the default and a 1 MiB buffer
  floors      pingpong --floor (one process writes and reads back the same channel: no
              wake-up) and blast --floor (memcpy of the same pieces: no channel at all)
  bare loops  the 64-byte pipe round trip and the 64 KiB pipe stream done by the barest
              loops (tools/bare_pipe.cpp: no checks, no options), to show what the
              programs themselves add to what they measure
  nagle       pingpong --via tcp --split (each message in two writes), with --nagle
              (TCP_NODELAY off) and without: Nagle's stall, and its absence
  fifo        lesson 05: a 16 MiB line's round trip through fifo_server, against a naive
              single-threaded Python echo over the same two FIFOs
Each figure is the median of --reps runs (3), shown with the spread of those runs
(±: half of max - min, as a percentage of the median). It warns, in words, when the
load average is above the number of CPUs or when runs spread widely: then the figures
are noise as much as measurement. It prints Markdown tables with every figure as a
ratio to the pipe's and to its floor, and writes results.json and chart.svg (every size,
with the floors) into --out (build/bench). --only runs some parts (comma-separated:
latency, throughput, bare, nagle, fifo). Standard library only; under a minute on
two idle cores.
"""
import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

KIT = Path(__file__).resolve().parents[2]
VIAS = ["pipe", "socketpair", "unix", "tcp"]
ROW_NAMES = {"pipe-1M": "pipe, 1 MiB buffer", "pipe-splice": "pipe, vmsplice sender (advanced)",
             "pipe-splice-1M": "pipe, vmsplice sender, 1 MiB buffer"}
SPLICE_ROWS = ("pipe-splice", "pipe-splice-1M")
SIZES = [64, 4096, 65536]
BLAST_BYTES = "256M"
CHUNK = "64K"
PARTS = ("latency", "throughput", "bare", "nagle", "fifo")
# Runs of one figure that spread more than this (max - min against the median) are noise.
WIDE_SPREAD = 0.25
FIFO_LINE_BYTES = 16 << 20
# Lesson 05's baseline: the simplest echo anyone would write, one thread, blocking calls.
NAIVE_ECHO = """
import sys
with open(sys.argv[1] + "/to-server", "rb") as inp, open(sys.argv[1] + "/from-server", "wb") as out:
    for line in inp:
        out.write(line)
        out.flush()
"""


def machine():
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"nproc": cpus, "cpu_model": model, "kernel": platform.system() + " " + platform.release(),
            "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None}


def run_json(argv):
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        sys.exit(f"bench.py: {' '.join(argv)} failed ({out.returncode}): {out.stderr.strip()}")
    return json.loads(out.stdout)


SPREADS = []  # (what, median, low, high) of every figure, for the warning and results.json


def spread_of(what, values):
    """The median of values; records their spread under the name what."""
    med = statistics.median(values)
    SPREADS.append((what, med, min(values), max(values)))
    return med


def median_of(argv, key, reps, what):
    """Runs argv reps times; returns the median of `key` and the last report."""
    runs = [run_json(argv) for _ in range(reps)]
    return spread_of(what, [r[key] for r in runs]), runs[-1]


def plus_minus(what):
    """' ±N %' for the figure recorded as what: half its range against its median."""
    for name, med, low, high in SPREADS:
        if name == what and med:
            return f" ±{50 * (high - low) / med:.0f} %"
    return ""


def load_warning(info):
    """Words, not just a number: a load above the CPU count makes every figure suspect.
    At the end, the bench's own two busy processes are part of the load: not counted."""
    start, end = info["load_average_at_start"], info.get("load_average_at_end")
    others = ([start[0]] if start else []) + ([end[0] - 2] if end else [])
    worst = max(others, default=0)
    if worst <= info["nproc"]:
        return []
    return [f"WARNING: the load average of other programs reached {worst:.2f}, above the {info['nproc']} CPUs "
            "of this machine: "
            "other programs were competing for the CPUs, so these figures measure them as much as the "
            "channels, and they may contradict the lesson. Run make bench again on an idle machine before you "
            "believe them."]


def spread_warning():
    wide = [(name, med, low, high) for name, med, low, high in SPREADS if med and (high - low) / med > WIDE_SPREAD]
    if not wide:
        return []
    name, med, low, high = max(wide, key=lambda w: (w[3] - w[2]) / w[1])
    return [f"WARNING: {len(wide)} of {len(SPREADS)} figures spread by more than {100 * WIDE_SPREAD:.0f} % "
            f"between runs (the widest: {name}, from {low:.3g} to {high:.3g}, median {med:.3g}). Those runs "
            "disagree with each other: the machine was busy or its CPUs changed speed. Treat differences "
            "smaller than the ± shown beside each figure as noise, and run make bench again."]


def fifo_round_trip(server_argv, naive):
    """Seconds for one FIFO_LINE_BYTES line to go through the server and back. The server
    runs in a fresh directory, which is removed afterwards, whatever happened."""
    folder = tempfile.mkdtemp(prefix="pipeworks-bench-")
    to_path, from_path = os.path.join(folder, "to-server"), os.path.join(folder, "from-server")
    server = None
    try:
        if naive:  # the naive echo expects the FIFOs; fifo_server makes its own
            os.mkfifo(to_path, 0o600)
            os.mkfifo(from_path, 0o600)
        server = subprocess.Popen(server_argv + [folder])
        deadline = time.monotonic() + 10
        while not os.path.exists(from_path):
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"bench.py: {' '.join(server_argv)} did not make its FIFOs")
            time.sleep(0.01)
        line = b"x" * FIFO_LINE_BYTES + b"\n"
        # The same client for both servers: write the line, read the reply, a thread each
        # so that neither can wait for the other.
        with open(to_path, "wb", buffering=0) as to_server, open(from_path, "rb", buffering=0) as from_server:
            started = time.perf_counter()
            writer = threading.Thread(target=write_all, args=(to_server.fileno(), line))
            writer.start()
            got = bytearray()
            while len(got) < len(line):
                piece = from_server.read(1 << 20)
                if not piece:
                    break
                got += piece
            elapsed = time.perf_counter() - started
            writer.join()
        if got != line:
            sys.exit(f"bench.py: {' '.join(server_argv)} answered {len(got)} bytes, not the {len(line)} sent")
        return elapsed
    finally:
        if server and server.poll() is None:
            server.send_signal(signal.SIGTERM)  # fifo_server stops and removes its FIFOs
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        for path in (to_path, from_path):
            if os.path.exists(path):
                os.unlink(path)
        os.rmdir(folder)


def ratio(x, base):
    return f"{x / base:.2f}x" if base else "-"


def percent(x, base):
    return f"{100 * x / base:.1f} %" if base else "-"


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def svg_chart(latency, throughput, memcpy, pins):
    """Bar groups drawn by hand: the round trip at every size, and the throughput, each
    with its floor (a floor far beyond the scale is drawn to the edge and says so)."""
    colours = {"same": "#0af", "cross": "#f96", "floor": "#9c9"}
    width, row, left, right = 960, 20, 300, 140
    panels = []
    for size in SIZES:
        if not latency:
            break
        panels.append((f"Round trip, {size}-byte messages (median µs, lower is better)",
                       [(v, [(k, latency[v][size].get(k)) for k in pins + ["floor"]]) for v in VIAS], None))
    if throughput:
        panels.append(("Throughput, 64 KiB writes (median GB/s, higher is better)",
                       [(v, [(p, throughput[v].get(p)) for p in pins]) for v in throughput],
                       ("memcpy of the same pieces", memcpy)))
    parts, y = [], 30
    for title, rows, floor in panels:
        values = [x for _, bars in rows for _, x in bars if x]
        top = max(values) if values else 1
        parts.append(f'<text x="10" y="{y}" font-size="15" font-weight="bold">{title}</text>')
        y += 12
        bars = [(name, kind, value) for name, d in rows for kind, value in d if value is not None]
        if floor and floor[1]:
            bars.append((floor[0], "floor", floor[1]))
        last = None
        for name, kind, value in bars:
            if last is not None and name != last:
                y += 6
            last = name
            w = (width - left - right) * min(value, top) / top
            y += row
            label = f"{ROW_NAMES.get(name, name)} ({kind if kind == 'floor' else kind + ' CPU'})"
            shown = f"{value:.2f}" + (" (off the scale)" if value > top else "")
            parts.append(f'<text x="{left - 8}" y="{y - 6}" font-size="12" text-anchor="end">{label}</text>')
            parts.append(f'<rect x="{left}" y="{y - row + 4}" width="{w:.1f}" height="{row - 6}" '
                         f'fill="{colours[kind]}" stroke="#333"/>')
            parts.append(f'<text x="{left + w + 6:.1f}" y="{y - 6}" font-size="12">{shown}</text>')
        y += 40
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}" '
            f'font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>')
    return head + "".join(parts) + "</svg>\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default="build/solutions/06-pipe-vs-loopback/bin")
    parser.add_argument("--bare", default="build/shared/tools/06-pipe-vs-loopback/bare_pipe")
    parser.add_argument("--fifo-server", default="build/solutions/05-fifo-messages/bin/fifo_server")
    parser.add_argument("--out", default="build/bench")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--only", default=",".join(PARTS))
    args = parser.parse_args()
    only = set(args.only.split(","))
    if only - set(PARTS):
        sys.exit(f"bench.py: --only takes {', '.join(PARTS)}, not {', '.join(sorted(only - set(PARTS)))}")
    os.chdir(KIT)
    pingpong, blast = str(Path(args.bin) / "pingpong"), str(Path(args.bin) / "blast")
    info = machine()
    pins = ["same", "cross"] if info["nproc"] >= 2 else ["same"]
    started = time.monotonic()
    if load_warning(info):  # said at once too (and again with the tables): one may stop and retry later
        print(f"make bench: the load average is {info['load_average_at_start'][0]:.2f}, above the {info['nproc']} "
              "CPUs: expect noisy figures.\n", flush=True)

    latency, placement = {}, {}
    if "latency" in only:
        latency = {v: {s: {} for s in SIZES} for v in VIAS}
        for via in VIAS:
            for size in SIZES:
                count = "2000" if size <= 4096 else "500"
                for pin in pins:
                    med, last = median_of([pingpong, "--via", via, "--size", str(size), "--count", count, "--pin",
                                           pin, "--json"], "median_us", args.reps, f"round trip {via} {size} B {pin} CPU")
                    latency[via][size][pin] = med
                    if last["note"]:
                        placement[pin] = last["note"]
                med, _ = median_of([pingpong, "--via", via, "--size", str(size), "--count", count, "--floor", "--pin",
                                    "same", "--json"], "median_us", args.reps, f"round trip {via} {size} B floor")
                latency[via][size]["floor"] = med

    rows = VIAS + ["pipe-1M"] + (list(SPLICE_ROWS) if sys.platform.startswith("linux") else [])
    throughput, memcpy = {}, None
    if "throughput" in only:
        throughput = {v: {} for v in rows}
        for via in rows:
            extra = (["--pipe-size", "1M"] if via.endswith("-1M") else []) + (["--splice"] if "splice" in via else [])
            for pin in pins:
                med, _ = median_of([blast, "--via", via.split("-")[0], "--bytes", BLAST_BYTES, "--chunk", CHUNK,
                                    "--pin", pin, "--json"] + extra, "gb_per_s", args.reps,
                                   f"stream {ROW_NAMES.get(via, via)} {pin} CPU")
                throughput[via][pin] = med
        memcpy, _ = median_of([blast, "--via", "pipe", "--bytes", BLAST_BYTES, "--chunk", CHUNK, "--floor", "--pin",
                               "same", "--json"], "gb_per_s", args.reps, "memcpy floor")
    bare = {"roundtrip_us": {}, "stream_gb_per_s": {}}
    if "bare" in only:
        for pin in pins:
            bare["roundtrip_us"][pin], _ = median_of([args.bare, "roundtrip", "64", "2000", pin], "median_us",
                                                     args.reps, f"bare round trip {pin} CPU")
            bare["stream_gb_per_s"][pin], _ = median_of([args.bare, "stream", BLAST_BYTES, CHUNK, pin], "gb_per_s",
                                                        args.reps, f"bare stream {pin} CPU")
    nagle = {}
    if "nagle" in only:
        for name, extra in (("TCP_NODELAY off (Nagle on)", ["--nagle"]), ("TCP_NODELAY on", [])):
            nagle[name], _ = median_of([pingpong, "--via", "tcp", "--split", "--count", "40", "--pin", "same",
                                        "--json"] + extra, "median_us", args.reps, f"split round trip, {name}")
    fifo = {}
    if "fifo" in only:
        reps = max(args.reps, 5)  # one run is short and noisy: take more
        for name, argv, naive in (("fifo_server (lesson 05's reference)", [args.fifo_server], False),
                                  ("naive Python echo, one thread", [sys.executable, "-c", NAIVE_ECHO], True)):
            fifo[name] = spread_of(f"16 MiB line, {name}", [fifo_round_trip(argv, naive) for _ in range(reps)])
    info["load_average_at_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    info["seconds"] = round(time.monotonic() - started, 1)

    # ---- the tables -----------------------------------------------------------------------
    lines = [f"Machine: {info['nproc']} CPUs, {info['cpu_model']}, {info['kernel']}; "
             f"load average {info['load_average_at_start'][0]:.2f} at start, "
             f"{info['load_average_at_end'][0]:.2f} at end; medians of {args.reps} runs, "
             "± half the range of those runs.", ""]
    warnings = load_warning(info) + spread_warning()
    for warning in warnings:
        lines += [warning, ""]
    lines.append("Same CPU: both processes pinned to one CPU (sched_setaffinity); cross CPU: parent and child "
                 "pinned to two different CPUs." + "".join(f" --pin {p}: {note}." for p, note in placement.items()))
    if len(pins) == 1:
        lines.append("Only one CPU is available here, so there is no cross-CPU column.")
    lines.append("")
    if latency:
        lines.append("Round trip (pingpong), median µs; floor = one process writes and reads back, no wake-up:")
        lines.append("")
        head = "| transport | size | " + " | ".join(f"{p} CPU" for p in pins) + " | floor | " + \
               " | ".join(f"{p} ÷ pipe | {p} ÷ floor" for p in pins) + " |"
        lines += [head, "|" + "---|" * (head.count("|") - 1)]
        for size in SIZES:
            for via in VIAS:
                d, base = latency[via][size], latency["pipe"][size]
                cells = [f"{d[p]:.1f}{plus_minus(f'round trip {via} {size} B {p} CPU')}" for p in pins]
                cells += [f"{d['floor']:.1f}{plus_minus(f'round trip {via} {size} B floor')}"]
                cells += [x for p in pins for x in (ratio(d[p], base[p]), ratio(d[p], d["floor"]))]
                lines.append(f"| {via} | {size} B | " + " | ".join(cells) + " |")
        lines.append("")
    if throughput:
        lines += [f"Throughput (blast, 256 MiB in 64 KiB writes), median GB/s; floor = memcpy of the same pieces "
                  f"= {memcpy:.1f} GB/s{plus_minus('memcpy floor')}:", ""]
        head = "| transport | " + " | ".join(f"{p} CPU" for p in pins) + " | " + \
               " | ".join(f"{p} ÷ pipe | {p} / memcpy" for p in pins) + " |"
        lines += [head, "|" + "---|" * (head.count("|") - 1)]
        for via in rows:
            d, base = throughput[via], throughput["pipe"]
            name = ROW_NAMES.get(via, via)
            cells = [f"{d[p]:.2f}{plus_minus(f'stream {name} {p} CPU')}" for p in pins]
            cells += [x for p in pins for x in (ratio(d[p], base[p]), percent(d[p], memcpy))]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    if bare["roundtrip_us"] and latency and throughput:
        lines += ["What the programs add: the pipe figures above next to the barest loops doing the same "
                  "(bare_pipe: no checks, no options):", ""]
        head = "| pipe | " + " | ".join(f"{p} CPU: program | bare loop | program ÷ bare" for p in pins) + \
               " | floor | bare (same) against floor |"
        lines += [head, "|" + "---|" * (head.count("|") - 1)]
        cells = [x for p in pins for x in (f"{latency['pipe'][64][p]:.1f}", f"{bare['roundtrip_us'][p]:.1f}",
                                           ratio(latency["pipe"][64][p], bare["roundtrip_us"][p]))]
        floor = latency["pipe"][64]["floor"]
        lines.append("| round trip, 64 B, µs (pingpong) | " + " | ".join(cells) +
                     f" | {floor:.1f} | {ratio(bare['roundtrip_us']['same'], floor)} |")
        cells = [x for p in pins for x in (f"{throughput['pipe'][p]:.2f}", f"{bare['stream_gb_per_s'][p]:.2f}",
                                           ratio(throughput["pipe"][p], bare["stream_gb_per_s"][p]))]
        lines.append("| stream, 64 KiB writes, GB/s (blast) | " + " | ".join(cells) +
                     f" | {memcpy:.1f} | {percent(bare['stream_gb_per_s']['same'], memcpy)} |")
        lines += ["", "A round trip between two processes is two wake-ups (context switches) that the one-process "
                      "floor does not have: the bare loop shows what they cost here. blast checksums every byte it "
                      "reads; the bare stream does not.", ""]
    if nagle:
        lines += ["Nagle (pingpong --via tcp --split: each 64-byte message in two writes; same CPU), median µs:", "",
                  "| sockets | round trip, µs |", "|---|---|"]
        lines += [f"| {name} | {us:.1f}{plus_minus(f'split round trip, {name}')} |" for name, us in nagle.items()]
        lines += ["", "With Nagle on, the second half waits for the ACK of the first, which the receiver delays "
                      "(tens of ms) while it waits for the rest of the message.", ""]
    if fifo:
        base = fifo["naive Python echo, one thread"]
        lines += ["Lesson 05: one 16 MiB line's round trip over two FIFOs, median seconds "
                  f"(of {max(args.reps, 5)} runs):", "", "| server | seconds | ÷ naive Python |", "|---|---|---|"]
        lines += [f"| {name} | {s:.3f}{plus_minus(f'16 MiB line, {name}')} | {ratio(s, base)} |"
                  for name, s in fifo.items()]
        lines.append("")
    table = "\n".join(lines).rstrip("\n")
    print(table)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = {"machine": info, "repetitions": args.reps, "pins": pins, "warnings": warnings,
               "latency_us": {v: {str(s): latency[v][s] for s in SIZES} for v in latency},
               "throughput_gb_per_s": throughput, "memcpy_floor_gb_per_s": memcpy, "placement_notes": placement,
               "bare_pipe_loops": bare, "nagle_split_round_trip_us": nagle, "fifo_16mib_round_trip_s": fifo,
               "spreads": [{"figure": n, "median": m, "min": lo, "max": hi} for n, m, lo, hi in SPREADS],
               "table_markdown": table}
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "chart.svg").write_text(svg_chart(latency, throughput, memcpy, pins))
    print(f"\nWrote {out / 'results.json'} and {out / 'chart.svg'} in {info['seconds']} s.")


if __name__ == "__main__":
    main()
