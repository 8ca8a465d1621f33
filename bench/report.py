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
    benches = doc.get("benchmarks", [])
    # With --benchmark_repetitions, use the medians; else the single runs.
    medians = [b for b in benches if b.get("aggregate_name") == "median"]
    for b in medians or benches:
        if not medians and b.get("run_type") == "aggregate":
            continue
        m = re.match(r"BM_(\w+?)(?:/real_time)?/threads:(\d+)$",
                     b.get("run_name", b["name"]))
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
            "rows": rows, "ctx": ctx}


def main():
    outdir = sys.argv[1]
    runs = []
    for arg in sys.argv[2:]:
        path, _, label = arg.partition("=")
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
    print("%-62s %8.2f   (cost of the rseq_cs clear: dlclose-safe)" % (
        "counter_u64_add 1 thread: time / add leaving rseq_cs set",
        get(m, "counter_u64_add_keep_cs", 1) / get(m, "counter_u64_add", 1)))
    ratio_line("counters_inc 1 thread: time / thread-local add",
               tls1 / get(m, "counters_inc", 1), 5, "<=")
    ratio_line("percpu getref+putref 1 thread: time / thread-local add",
               tls1 / get(m, "percpu_getref_putref", 1), 5, "<=")
    for run in runs[1:]:
        if run["backend"] == "getcpu":
            ratio_line("getcpu backend counter_u64_add 1 thread: time / "
                       "(sched_getcpu + lock add)",
                       get(run, "base_getcpu_private_lock_add", 1) /
                       get(run, "counter_u64_add", 1), 1.2, "<=")
    fetch = [r for r in runs if r["label"] == "sim"
             and ("counter_u64_fetch", 1) in r["rows"]]
    if fetch:
        print()
        print("counter_u64_fetch by possible CPUs (simulated), "
              "ns per fetch on each thread:")
        print("  %6s %10s %10s %10s" % ("CPUs", "1 thread", "2 threads",
                                       "4 threads"))
        for r in fetch:
            print("  %6s %10.1f %10.1f %10.1f" % (r["ncpus"], *(
                r["rows"].get(("counter_u64_fetch", t),
                              {"ns": float("nan")})["ns"]
                for t in (1, 2, 4))))

    # Throughput against threads, per operation, for the plot.
    ops = sorted({op for (op, _) in m["rows"] if op != "counter_u64_fetch"})
    with open(outdir + "/throughput.dat", "w") as f:
        f.write("# threads " + " ".join(ops) + "\n")
        for thr in (1, 2, 4):
            f.write("%d %s\n" % (thr, " ".join(
                "%.3f" % (get(m, op, thr) / 1e6) for op in ops)))
    with open(outdir + "/throughput.gp", "w") as f:
        f.write('set terminal png size 1000,650\n')
        f.write('set output "%s/throughput.png"\n' % outdir)
        f.write('set title "Aggregate throughput against threads '
                '(backend %s, %s CPUs)"\n' % (m["backend"], ctx.get("num_cpus")))
        f.write('set termoption noenhanced\nset xlabel "threads"\nset ylabel "Mops/s (log)"\n'
                'set logscale y\nset key outside right\nset xtics (1,2,4)\n')
        f.write("plot " + ", ".join(
            '"%s/throughput.dat" using 1:%d with linespoints title "%s"' % (
                outdir, i + 2, op) for i, op in enumerate(ops)) + "\n")


if __name__ == "__main__":
    main()
