#!/usr/bin/python3
# test/lib/check_prom.py - parse `pcpustat -o prom` (stdin) with the
# Prometheus client's own parser and check every value exactly against
# test/lib/prom_writer.c.  argv: NCPU SEGMENT
import sys

from prometheus_client.parser import text_string_to_metric_families

ncpu, segment = int(sys.argv[1]), sys.argv[2]
text = sys.stdin.read()
fams = {f.name: f for f in text_string_to_metric_families(text)}
errors = []


def check(fam, typ, want_sum, per_index=None):
    f = fams.get(fam)
    if f is None:
        errors.append(f"no family {fam} in {sorted(fams)}")
        return
    if f.type != typ:
        errors.append(f"{fam}: type {f.type}, want {typ}")
    for s in f.samples:
        if s.labels.get("segment") != segment:
            errors.append(f"{fam}: segment label {s.labels}")
    per = fams.get(fam + "_per_cpu")
    if per is None:
        errors.append(f"no family {fam}_per_cpu")
        return
    cpus = {s.labels["cpu"] for s in per.samples}
    if len(cpus) != ncpu:
        errors.append(f"{fam}_per_cpu: {len(cpus)} CPUs, want {ncpu}")
    if per_index is None:
        tot = [s.value for s in f.samples]
        if tot != [want_sum]:
            errors.append(f"{fam}: {tot}, want [{want_sum}]")
        if sum(s.value for s in per.samples) != want_sum:
            errors.append(f"{fam}_per_cpu does not add up to {want_sum}")
        return
    for i, want in enumerate(per_index):
        got = [s.value for s in f.samples if s.labels.get("index") == str(i)]
        if got != [want]:
            errors.append(f"{fam}[{i}]: {got}, want [{want}]")
        ps = sum(s.value for s in per.samples if s.labels["index"] == str(i))
        if ps != want:
            errors.append(f"{fam}_per_cpu[{i}]: {ps}, want {want}")


check("pcpu_net_rx", "counter", 3000)
check("pcpu_if_stats", "counter", None, [100, 200, 300])
check("pcpu_pcpu_entry_quota", "gauge", 7 * ncpu)
# Every element of a set, not the text display's first 16.
check("pcpu_ipstat", "counter", None, list(range(1, 41)))
# net_rx maps to net.rx's metric name: skipped with a comment, never a
# second family of that name (Prometheus rejects the file).
if "# pcpu_net_rx skipped (net_rx: its metric name is another object's)" \
        not in text.splitlines():
    errors.append("the name clash of net_rx is not reported")
if text.count("# TYPE pcpu_net_rx_total ") != 1:
    errors.append("pcpu_net_rx_total declared more than once")
if errors:
    print("\n".join(errors))
    sys.exit(1)
print(f"check-prom: {len(fams)} families parsed by prometheus_client, "
      "values exact")
