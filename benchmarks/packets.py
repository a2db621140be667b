"""Benchmark `leaflets packets`: 1,000 packets, packets per second and peak memory, beside the naive way.

Run from the project folder:  python3 benchmarks/packets.py [--count 1000] [--naive 20]

The naive way renders every packet in full with WeasyPrint (leaflet and consent sheet laid out
again for each patient). It is timed on a sample (--naive) in the same run and reported per packet,
so the two figures are a ratio measured side by side on the same machine.
"""

from __future__ import annotations

import argparse
import csv
import resource
import shutil
import tempfile
import time
from pathlib import Path

from leaflets.packets import PacketsOptions, make_packets
from leaflets.session import open_session

ROOT = Path(__file__).resolve().parent.parent
TOPICS = ("esketamine-nasal-spray", "ketamine-infusion")


def write_patients(path: Path, count: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(
            ["name", "date_of_birth", "record_number", "topic", "clinician", "appointment_date", "paper", "large_print"]
        )
        for n in range(count):
            out.writerow(
                [
                    f"Patient {n:05d} Example",
                    f"19{40 + n % 60:02d}-0{1 + n % 9}-1{n % 10}",
                    f"MRN-{n:07d}",
                    TOPICS[n % 2],
                    "Dr Sam Rivera",
                    "2026-11-23",
                    ("letter", "a4")[n % 3 == 0],
                    ("no", "yes")[n % 10 == 0],
                ]
            )


def naive(count: int) -> float:
    """Seconds per packet when each packet is laid out in full."""
    session = open_session(ROOT, "example")
    start = time.perf_counter()
    for n in range(count):
        topic = TOPICS[n % 2]
        htmls = [session.render(session.spec(topic, doc, "patient", "letter")).html for doc in ("leaflet", "consent")]
        session.maker.make_combined(htmls, "naive")
    return (time.perf_counter() - start) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--naive", type=int, default=20, help="packets to render the naive way (a sample)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="leaflets-bench-"))
    try:
        patients = work / "patients.csv"
        write_patients(patients, args.count)
        start = time.perf_counter()
        key = work / "clinic.key"  # outside the output folder, and never the clinic's real key
        options = PacketsOptions(patients=patients, out=work / "out", key_file=key, allow_draft=True)
        report = make_packets(ROOT, options)
        elapsed = time.perf_counter() - start
        assert len(report.built) == args.count and not report.problems, report.problems[:3]
        rerun_start = time.perf_counter()
        again = make_packets(ROOT, options)
        rerun = time.perf_counter() - rerun_start
        peak = max(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        )
        per_naive = naive(args.naive)
        rate = args.count / elapsed
        print(f"packets:            {args.count} in {elapsed:.1f} s = {rate:.1f} packets/s ({report.summary()})")
        print(f"peak memory:        {peak / 1024:.0f} MB (largest process)")
        print(f"second run:         {len(again.unchanged)} unchanged, {len(again.built)} rebuilt, {rerun:.1f} s")
        print(
            f"naive (full render): {1 / per_naive:.2f} packets/s over {args.naive} packets "
            f"(about {per_naive * args.count / 60:.0f} min for {args.count})"
        )
        print(f"speed-up:           {rate * per_naive:.0f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
