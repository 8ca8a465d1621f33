#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""report.py - the ratio table of `make bench`, from Google Benchmark JSON.

Medians of the repetitions are used where the run has them.

usage: report.py OUTDIR RUN.json[=LABEL] ...

Each RUN is one process of the benchmark binary (the backend is chosen per
process: "rseq", "getcpu" with PERCPU_BACKEND=getcpu, "sim" with N
simulated CPUs).  Prints, per operation and thread count, the aggregate
throughput and the time of one operation on one thread, then the targets
of the performance issue as ratios taken from the same run, and writes
OUTDIR/throughput.dat and OUTDIR/throughput.gp for gnuplot.
"""
import json
import re
import sys


def load(path, label):
    with open(path) as f:
        doc = json.load(f)
    ctx = doc.get("context", {})
    backend = ctx.get("percpu_backend", "?")
    ncpus = ctx.get("percpu_ncpus", "?")
    rows = {}
    singles = {}
    benches = doc.get("benchmarks", [])
    # With --benchmark_repetitions, use the medians; else the single runs.
    medians = [b for b in benches if b.get("aggregate_name") == "median"]
    for b in medians or benches:
        if not medians and b.get("run_type") == "aggregate":
            continue
        name = b.get("run_name", b["name"])
        one = re.match(r"BM_(\w+?)/(?!iterations)(\w+):(\d+)"
                       r"(?:/iterations:\d+)?"
                       r"(?:/real_time)?$", name) or re.match(
            r"BM_(\w+?)(?:/iterations:\d+)?(?:/real_time)?$", name)
        m = re.match(r"BM_(\w+?)(?:/real_time)?/threads:(\d+)$", name)
        if not m and one:
            # A single-threaded row with an argument (live:N, loopers:N)
            # or none: kept whole, by name and argument.
            op = one.group(1) + ("/%s:%s" % (one.group(2), one.group(3))
                                 if one.lastindex and one.lastindex >= 3
                                 else "")
            ips = b.get("items_per_second", 0.0)
            singles[op] = {
                "ips": ips,
                "ns": 1e9 / ips if ips else float("nan"),
                "real_s": _seconds(b),
                "counters": {k: v for k, v in b.items()
                             if isinstance(v, (int, float))},
            }
            continue
        if not m:
            continue
        op, threads = m.group(1), int(m.group(2))
        ips = b.get("items_per_second", 0.0)
        rows[(op, threads)] = {
            "ips": ips,
            # one operation on one thread: threads / aggregate rate
            "ns": threads / ips * 1e9 if ips else float("nan"),
            "bytes": b.get("bytes_per_cpu"),
            "cpus": b.get("cpus"),
        }
    return {"label": label or backend, "backend": backend, "ncpus": ncpus,
            "rows": rows, "singles": singles, "ctx": ctx}


def _seconds(b):
    """The real time of one iteration of row b, in seconds."""
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    return b.get("real_time", float("nan")) * scale.get(
        b.get("time_unit", "ns"), 1e-9)


# The plot's panels: each operation beside its own baselines.  Baselines
# are drawn dashed.
FAMILIES = [
    ("Adds without a section", [
        "base_rseq_add", "base_indexed_add", "base_tls_add",
        "base_striped_atomic", "base_shared_atomic",
        "counter_u64_add", "counter_u64_add_pinned", "percpu_local_add64"]),
    ("Sections", [
        "base_rseq_add", "base_private_lock_add",
        "percpu_getref_putref", "cpumem_enter_leave", "counters_inc",
        "counters_pkt", "dpcpu_critical_inc"]),
    ("Finding the CPU with sched_getcpu()", [
        "base_getcpu_atomic", "base_getcpu_private_lock_add",
        "counter_u64_add", "percpu_local_add64"]),
    ("Reads", ["counter_u64_fetch", "counters_read"]),
]


def main():
    outdir = sys.argv[1]
    runs = []
    ratio_files = []
    for arg in sys.argv[2:]:
        path, _, label = arg.partition("=")
        if label == "ratio":
            ratio_files.append(path)
            continue
        runs.append(load(path, label))
    main_run = runs[0]
    ctx = main_run["ctx"]
    print("machine: %s CPUs at %s MHz, %s; date %s" % (
        ctx.get("num_cpus"), ctx.get("mhz_per_cpu"),
        ctx.get("host_name", "?"), ctx.get("date", "?")))
    print()
    print("%-34s %-8s %3s %12s %10s %10s" % (
        "operation", "backend", "thr", "Mops/s", "ns/op/thr", "B/CPU"))
    for run in runs:
        for (op, thr), r in sorted(run["rows"].items()):
            b = r["bytes"]
            print("%-34s %-8s %3d %12.1f %10.2f %10s" % (
                op, run["label"], thr, r["ips"] / 1e6, r["ns"],
                "%d" % b if b is not None else "-"))
        print()

    def get(run, op, thr):
        r = run["rows"].get((op, thr))
        return r["ips"] if r else float("nan")

    def ratio_line(name, value, target, better):
        ok = (value <= target) if better == "<=" else (value >= target)
        print("%-62s %8.2f   target %s %-5g %s" % (
            name, value, better, target, "met" if ok else "MISSED"))

    m = main_run
    tls1 = get(m, "base_tls_add", 1)
    print("targets (ratios within one run; backend %s):" % m["backend"])
    ratio_line("counter_u64_add 1 thread: time / thread-local add",
               tls1 / get(m, "counter_u64_add", 1), 1.5, "<=")
    ratio_line("counter_u64_add 1 thread: time / plain add via an index",
               get(m, "base_indexed_add", 1) / get(m, "counter_u64_add", 1),
               1.5, "<=")
    ratio_line("counter_u64_add 2 threads: throughput / shared atomic",
               get(m, "counter_u64_add", 2) / get(m, "base_shared_atomic", 2),
               25, ">=")
    ratio_line("counter_u64_add 2 threads: throughput / its 1-thread rate",
               get(m, "counter_u64_add", 2) / get(m, "counter_u64_add", 1),
               1.8, ">=")
    ratio_line("counters_inc 1 thread: time / thread-local add",
               tls1 / get(m, "counters_inc", 1), 5, "<=")
    ratio_line("percpu getref+putref 1 thread: time / thread-local add",
               tls1 / get(m, "percpu_getref_putref", 1), 5, "<=")
    floor1 = get(m, "base_rseq_add", 1)
    print()
    print("targets of the performance issue (same run; floor = bare "
          "restartable add on a static per-CPU array):")
    print("  Google Benchmark rows (each row timed apart: a load that "
          "comes and goes moves them):")
    for op in ("counter_u64_add", "percpu_local_add64"):
        ratio_line("%s 1 thread: time / floor" % op,
                   floor1 / get(m, op, 1), 1.10, "<=")
    for op in ("percpu_getref_putref", "cpumem_enter_leave", "counters_inc",
               "counters_pkt", "dpcpu_critical_inc"):
        ratio_line("%s 1 thread: time / floor" % op,
                   floor1 / get(m, op, 1), 3.0, "<=")
    # The same targets from bench/ratio.c (make bench-ratio, run by make
    # bench just before): every try of an operation right after a try of
    # the floor, fastest of each, medians over rounds.
    ratio = {}
    for arg in ratio_files:
        with open(arg) as f:
            for line in f:
                mm = re.match(r"(getcpu )?(\w+)(?: \(floor\))?\s+([\d.]+)"
                              r"\s+([\d.]+)$", line.strip())
                key = mm and ("getcpu_" if mm.group(1) else "") + mm.group(2)
                if mm and key not in ratio:
                    ratio[key] = float(mm.group(4))
    if ratio:
        print("  interleaved with the floor (make bench-ratio; the "
              "verdict):")
        for op, target in (("counter_u64_add", 1.10),
                           ("percpu_local_add64", 1.10),
                           ("percpu_getref_putref", 3.0),
                           ("cpumem_enter_leave", 3.0),
                           ("counters_inc", 3.0), ("counters_pkt", 3.0),
                           ("dpcpu_critical_inc", 3.0)):
            if op in ratio:
                ratio_line("%s 1 thread: time / floor" % op, ratio[op],
                           target, "<=")
    sg = m["singles"]
    x = sg.get("xcall_under_getref_load/loopers:4")
    if x:
        ratio_line("foreach_xcall under 4 getref/putref loops: mean ms",
                   x["counters"].get("xcall_mean_ms", float("nan")), 5, "<=")
        ratio_line("foreach_xcall under 4 getref/putref loops: max ms",
                   x["counters"].get("xcall_max_ms", float("nan")), 50, "<=")
    a1 = sg.get("counter_alloc_free/live:1000")
    a2 = sg.get("counter_alloc_free/live:100000")
    if a1 and a2:
        print("%-62s %8.1f ns / %.1f ns" % (
            "counter alloc+free with 1k / 100k live", a1["ns"], a2["ns"]))
        ratio_line("counter alloc+free: 100k live / 1k live",
                   a2["ns"] / a1["ns"], 2, "<=")
    a3 = sg.get("counter_alloc_free_1e6")
    if a3:
        ratio_line("10^6 counters allocated and freed: seconds",
                   a3["real_s"], 2, "<=")
    if "getcpu_counter_u64_add" in ratio:
        ratio_line("getcpu backend counter_u64_add 1 thread: time / "
                   "(sched_getcpu + lock add), interleaved",
                   ratio["getcpu_counter_u64_add"], 1.2, "<=")
    else:
        for run in runs[1:]:
            if run["backend"] == "getcpu":
                ratio_line("getcpu backend counter_u64_add 1 thread: time "
                           "/ (sched_getcpu + lock add)",
                           get(run, "base_getcpu_private_lock_add", 1) /
                           get(run, "counter_u64_add", 1), 1.2, "<=")
    fetch = [r for r in runs if r["label"] == "sim"
             and ("counter_u64_fetch", 1) in r["rows"]]
    for op in ("counter_u64_fetch", "counters_read"):
        if not fetch:
            break
        print()
        print("%s by possible CPUs (simulated), ns per call on each "
              "thread:" % op)
        print("  %6s %10s %10s %10s" % ("CPUs", "1 thread", "2 threads",
                                       "4 threads"))
        for r in fetch:
            print("  %6s %10.1f %10.1f %10.1f" % (r["ncpus"], *(
                r["rows"].get((op, t), {"ns": float("nan")})["ns"]
                for t in (1, 2, 4))))

    # The plot: one panel per family (FAMILIES), throughput against
    # threads, baselines dashed; the reads panel is time per call
    # against simulated CPUs.
    getcpu = next((r for r in runs if r["backend"] == "getcpu"), None)
    with open(outdir + "/throughput.dat", "w") as f:
        for i, (title, ops) in enumerate(FAMILIES):
            src = getcpu if "sched_getcpu" in title and getcpu else m
            f.write("# panel %d: %s (backend %s)\n" % (
                i, title, src["backend"]))
            if title == "Reads":
                f.write("# cpus " + " ".join(ops) + "\n")
                for r in fetch:
                    f.write("%s %s\n" % (r["ncpus"], " ".join(
                        "%.3f" % r["rows"].get((op, 1), {"ns": float("nan")})
                        ["ns"] for op in ops)))
            else:
                f.write("# threads " + " ".join(ops) + "\n")
                for thr in (1, 2, 4):
                    f.write("%d %s\n" % (thr, " ".join(
                        "%.3f" % (get(src, op, thr) / 1e6) for op in ops)))
            f.write("\n\n")
    with open(outdir + "/throughput.gp", "w") as f:
        f.write('set terminal pngcairo size 1400,1000 font ",10"\n')
        f.write('set output "%s/throughput.png"\n' % outdir)
        f.write('set termoption noenhanced\n')
        f.write('set multiplot layout 2,2 title "percpu toolkit, %s CPUs, '
                '%s (dashed: baselines)"\n' % (ctx.get("num_cpus"),
                                               ctx.get("date", "")))
        for i, (title, ops) in enumerate(FAMILIES):
            src = getcpu if "sched_getcpu" in title and getcpu else m
            f.write('set title "%s (backend %s)"\n' % (
                title, "sim" if title == "Reads" else src["backend"]))
            f.write('set key outside right top vertical\nset logscale y\n')
            if title == "Reads":
                f.write('set xlabel "possible CPUs (simulated)"\n'
                        'set ylabel "ns per call, 1 thread (log)"\n'
                        'set logscale x 2\nset xtics auto\n')
            else:
                f.write('unset logscale x\nset xlabel "threads"\n'
                        'set ylabel "Mops/s, all threads (log)"\n'
                        'set xtics (1,2,4)\n')
            f.write("plot " + ", ".join(
                '"%s/throughput.dat" index %d using 1:%d with linespoints '
                'lc %d dt %d pt %d title "%s"' % (
                    outdir, i, k + 2, k + 1,
                    2 if op.startswith("base_") else 1, k + 1, op)
                for k, op in enumerate(ops)) + "\n")
        f.write("unset multiplot\n")


if __name__ == "__main__":
    main()
