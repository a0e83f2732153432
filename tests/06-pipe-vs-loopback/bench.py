#!/usr/bin/env python3
"""bench.py - lesson 06's measurements: pipes, socketpairs, Unix sockets and TCP on
127.0.0.1, side by side, with the floors no transport can beat.

Usage: python3 tests/06-pipe-vs-loopback/bench.py [--bin DIR] [--out DIR] [--reps N]
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
Each figure is the median of --reps runs (3). It prints Markdown tables with every
figure as a ratio to the pipe's and to its floor, and writes results.json and
chart.svg into --out (build/bench). Standard library only; under two minutes on two
cores.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
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


def median_of(argv, key, reps):
    """Runs argv reps times; returns the median of `key` and the last report."""
    runs = [run_json(argv) for _ in range(reps)]
    return statistics.median(r[key] for r in runs), runs[-1]


def ratio(x, base):
    return f"{x / base:.2f}x" if base else "-"


def percent(x, base):
    return f"{100 * x / base:.1f} %" if base else "-"


def svg_chart(latency, throughput, pins):
    """Two bar groups, drawn by hand: 64-byte round trip (us) and throughput (GB/s)."""
    colours = {"same": "#0af", "cross": "#f96"}
    width, row, left = 960, 22, 300
    panels = [("Round trip, 64-byte messages (median µs, lower is better)",
               [(v, {p: latency[v][64].get(p) for p in pins}) for v in VIAS]),
              ("Throughput, 64 KiB writes (GB/s, higher is better)",
               [(v, {p: throughput[v].get(p) for p in pins}) for v in throughput])]
    parts, y = [], 30
    for title, rows in panels:
        values = [x for _, d in rows for x in d.values() if x]
        top = max(values) if values else 1
        parts.append(f'<text x="10" y="{y}" font-size="15" font-weight="bold">{title}</text>')
        y += 12
        for name, d in rows:
            for pin in pins:
                value = d.get(pin)
                if value is None:
                    continue
                w = (width - left - 120) * value / top
                y += row
                parts.append(f'<text x="{left - 8}" y="{y - 6}" font-size="12" text-anchor="end">{ROW_NAMES.get(name, name)} ({pin})</text>')
                parts.append(f'<rect x="{left}" y="{y - row + 4}" width="{w:.1f}" height="{row - 6}" '
                             f'fill="{colours[pin]}" stroke="#333"/>')
                parts.append(f'<text x="{left + w + 6:.1f}" y="{y - 6}" font-size="12">{value:.2f}</text>')
            y += 6
        y += 40
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}" '
            f'font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>')
    return head + "".join(parts) + "</svg>\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default="build/solutions/06-pipe-vs-loopback/bin")
    parser.add_argument("--bare", default="build/shared/tools/06-pipe-vs-loopback/bare_pipe")
    parser.add_argument("--out", default="build/bench")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    os.chdir(KIT)
    pingpong, blast = str(Path(args.bin) / "pingpong"), str(Path(args.bin) / "blast")
    info = machine()
    pins = ["same", "cross"] if info["nproc"] >= 2 else ["same"]
    started = time.monotonic()

    latency = {v: {s: {} for s in SIZES} for v in VIAS}
    placement = {}
    for via in VIAS:
        for size in SIZES:
            count = "2000" if size <= 4096 else "500"
            for pin in pins:
                med, last = median_of([pingpong, "--via", via, "--size", str(size), "--count", count, "--pin", pin,
                                       "--json"], "median_us", args.reps)
                latency[via][size][pin] = med
                placement[pin] = last["placement"] + (f" ({last['note']})" if last["note"] else "")
            med, _ = median_of([pingpong, "--via", via, "--size", str(size), "--count", count, "--floor", "--pin",
                                "same", "--json"], "median_us", args.reps)
            latency[via][size]["floor"] = med

    rows = VIAS + ["pipe-1M"] + (list(SPLICE_ROWS) if sys.platform.startswith("linux") else [])
    throughput = {v: {} for v in rows}
    for via in rows:
        extra = (["--pipe-size", "1M"] if via.endswith("-1M") else []) + (["--splice"] if "splice" in via else [])
        for pin in pins:
            med, _ = median_of([blast, "--via", via.split("-")[0], "--bytes", BLAST_BYTES, "--chunk", CHUNK, "--pin",
                                pin, "--json"] + extra, "gb_per_s", args.reps)
            throughput[via][pin] = med
    memcpy, _ = median_of([blast, "--via", "pipe", "--bytes", BLAST_BYTES, "--chunk", CHUNK, "--floor", "--pin",
                           "same", "--json"], "gb_per_s", args.reps)
    bare = {"roundtrip_us": {}, "stream_gb_per_s": {}}
    for pin in pins:
        bare["roundtrip_us"][pin], _ = median_of([args.bare, "roundtrip", "64", "2000", pin], "median_us", args.reps)
        bare["stream_gb_per_s"][pin], _ = median_of([args.bare, "stream", BLAST_BYTES, CHUNK, pin], "gb_per_s",
                                                    args.reps)
    info["load_average_at_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    info["seconds"] = round(time.monotonic() - started, 1)

    # ---- the tables -----------------------------------------------------------------------
    lines = [f"Machine: {info['nproc']} CPUs, {info['cpu_model']}, {info['kernel']}; "
             f"load average {info['load_average_at_start'][0]:.2f} at start, "
             f"{info['load_average_at_end'][0]:.2f} at end; medians of {args.reps} runs.", ""]
    lines.append("Round trip (pingpong), median µs; floor = one process writes and reads back, no wake-up:")
    lines.append("")
    head = "| transport | size | " + " | ".join(f"{p} CPU" for p in pins) + " | floor | " + \
           " | ".join(f"{p} ÷ pipe | {p} ÷ floor" for p in pins) + " |"
    lines += [head, "|" + "---|" * (head.count("|") - 1)]
    for size in SIZES:
        for via in VIAS:
            d, base = latency[via][size], latency["pipe"][size]
            cells = [f"{d[p]:.1f}" for p in pins] + [f"{d['floor']:.1f}"]
            cells += [x for p in pins for x in (ratio(d[p], base[p]), ratio(d[p], d["floor"]))]
            lines.append(f"| {via} | {size} B | " + " | ".join(cells) + " |")
    lines += ["", f"Throughput (blast, 256 MiB in 64 KiB writes), GB/s; floor = memcpy of the same pieces "
                  f"= {memcpy:.1f} GB/s:", ""]
    head = "| transport | " + " | ".join(f"{p} CPU" for p in pins) + " | " + \
           " | ".join(f"{p} ÷ pipe | {p} / memcpy" for p in pins) + " |"
    lines += [head, "|" + "---|" * (head.count("|") - 1)]
    for via in rows:
        d, base = throughput[via], throughput["pipe"]
        cells = [f"{d[p]:.2f}" for p in pins]
        cells += [x for p in pins for x in (ratio(d[p], base[p]), percent(d[p], memcpy))]
        name = ROW_NAMES.get(via, via)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "What the programs add: the pipe figures above next to the barest loops doing the same "
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
                  "reads; the bare stream does not."]
    lines += ["", "Placement: " + "; ".join(f"--pin {p}: {placement[p]}" for p in pins)]
    if len(pins) == 1:
        lines.append("Only one CPU is available here, so there is no cross-CPU column.")
    table = "\n".join(lines)
    print(table)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = {"machine": info, "repetitions": args.reps, "pins": pins,
               "latency_us": {v: {str(s): latency[v][s] for s in SIZES} for v in VIAS},
               "throughput_gb_per_s": throughput, "memcpy_floor_gb_per_s": memcpy, "placement": placement,
               "bare_pipe_loops": bare,
               "table_markdown": table}
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "chart.svg").write_text(svg_chart(latency, throughput, pins))
    print(f"\nWrote {out / 'results.json'} and {out / 'chart.svg'} in {info['seconds']} s.")


if __name__ == "__main__":
    main()
