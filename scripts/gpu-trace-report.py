#!/usr/bin/env python3
"""What a traced GPU run captured, checked against issue 15's bar: every op of every rank has device activity
(kernels, copies or memsets tied to it by CUPTI's external correlation id), no dropped records, and each
kernel inside its op's range after clock alignment (within a tolerance: the op's range comes from cudaEvents,
the kernel's from CUPTI, both on the rank's aligned clock).

  scripts/gpu-trace-report.py PROJECT.sqlite [--json OUT.json] [--tolerance-us 5]

Prints one block per run (kernel count per op, ops without activity, dropped records, out-of-range kernels)
and exits 0 when every run meets the bar, 1 when one does not, 2 when the file cannot be read. Reads the
project with the standard library's sqlite3 only (the GPU machines have Python but no Qt)."""
import argparse
import json
import sqlite3
import sys


def runs_with_gpu(db):
    return [r[0] for r in db.execute(
        "SELECT DISTINCT run FROM gpu_captures ORDER BY run")]


def report_run(db, run, tolerance_ns):
    name, backend, ranks = db.execute("SELECT name, backend, ranks FROM runs WHERE id = ?", (run,)).fetchone()
    captures = db.execute(
        "SELECT rank, status, dropped_records FROM gpu_captures WHERE run = ? ORDER BY rank", (run,)).fetchall()
    # Device activity per op occurrence: kernels, copies and memsets whose event is that op's events row.
    activity = {}
    for table in ("CUPTI_ACTIVITY_KIND_KERNEL", "CUPTI_ACTIVITY_KIND_MEMCPY", "CUPTI_ACTIVITY_KIND_MEMSET"):
        for event, count in db.execute(
                f"SELECT event, count(*) FROM {table} WHERE run = ? AND event IS NOT NULL GROUP BY event", (run,)):
            activity[event] = activity.get(event, 0) + count
    per_op = {}  # (schedule, op) -> [occurrences, with activity, kernels]
    kernels_of = dict(db.execute(
        "SELECT event, count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL WHERE run = ? AND event IS NOT NULL GROUP BY event",
        (run,)).fetchall())
    missing = []
    for event, rank, schedule, op, phase in db.execute(
            "SELECT e.id, e.rank, s.value, o.value, e.phase FROM events e JOIN StringIds s ON s.id = e.schedule "
            "JOIN StringIds o ON o.id = e.op WHERE e.run = ?", (run,)):
        key = f"{schedule} {op} {'fwd' if phase == 0 else 'bwd'}"
        row = per_op.setdefault(key, [0, 0, 0])
        row[0] += 1
        if activity.get(event):
            row[1] += 1
        else:
            missing.append((rank, key))
        row[2] += kernels_of.get(event, 0)
    outside = db.execute(
        "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL k JOIN events e ON e.run = k.run AND e.id = k.event "
        "WHERE k.run = ? AND (k.start < e.start_ns - ? OR k.end > e.end_ns + ?)",
        (run, tolerance_ns, tolerance_ns)).fetchone()[0]
    unlinked = db.execute(
        "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL WHERE run = ? AND event IS NULL", (run,)).fetchone()[0]
    total_kernels = db.execute(
        "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL WHERE run = ?", (run,)).fetchone()[0]
    dropped = sum(c[2] for c in captures)
    unavailable = [c[1] for c in captures if c[1]]
    ok = not missing and dropped == 0 and outside == 0 and not unavailable and total_kernels > 0
    return {
        "run": run, "name": name, "backend": backend, "ranks": ranks, "ok": ok,
        "kernels": total_kernels, "kernels_without_op": unlinked, "dropped_records": dropped,
        "capture_status": sorted(set(unavailable)), "kernels_outside_op_range": outside,
        "ops_without_activity": len(missing), "first_ops_without_activity": missing[:10],
        "per_op": {k: {"occurrences": v[0], "with_activity": v[1], "kernels_per_occurrence":
                       round(v[2] / v[0], 2) if v[0] else 0} for k, v in sorted(per_op.items())},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project")
    parser.add_argument("--json", help="write the report as JSON here")
    parser.add_argument("--tolerance-us", type=float, default=5.0)
    args = parser.parse_args()
    try:
        db = sqlite3.connect(f"file:{args.project}?mode=ro", uri=True)
        runs = runs_with_gpu(db)
        reports = [report_run(db, run, int(args.tolerance_us * 1000)) for run in runs]
    except sqlite3.Error as e:
        print(f"gpu-trace-report: {args.project}: {e}", file=sys.stderr)
        return 2
    for r in reports:
        print(f"run {r['run']} ({r['name']}, {r['backend']}, {r['ranks']} ranks): {r['kernels']} kernels, "
              f"{r['kernels_without_op']} without an op, dropped {r['dropped_records']}, "
              f"{r['kernels_outside_op_range']} outside their op's range, "
              f"{r['ops_without_activity']} ops without device activity: {'ok' if r['ok'] else 'NOT OK'}")
        for status in r["capture_status"]:
            print(f"  {status}")
        for op, v in r["per_op"].items():
            print(f"  {op:40s} {v['occurrences']:6d} x {v['kernels_per_occurrence']:6.2f} kernels"
                  f"{'' if v['with_activity'] == v['occurrences'] else '  (%d without activity)' % (v['occurrences'] - v['with_activity'])}")
    if not reports:
        print("gpu-trace-report: no run with GPU capture in the project")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"runs": reports}, f, indent=1)
    return 0 if reports and all(r["ok"] for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
