"""Benchmark: batch printing permits with reports.parallel.render_batch, against one at a time.

What it measures
  BATCH     reports.parallel.render_batch() printing --permits permits (the sample permit with
            distinct permit numbers, F4) into one merged PDF with --workers worker processes:
            wall time from the call to the output file in place, including starting the
            workers, rendering, merging each chunk in its worker and concatenating the chunks
            in the parent.
  SINGLE    reports.papers.render_permit() called in this process, --singles times after a few
            warm-up renders, half before the batch and half after; the median, times --permits,
            is the sequential estimate: what printing the batch one permit at a time would take.
ratio = batch wall time / sequential estimate. With N cores the floor is about 1/N; the
overhead above it is process start, pickling the jobs and merging the PDFs. The machine may be
shared: the CPU time the workers used and what other processes used meanwhile (Linux /proc)
are printed too, to tell overhead from contention.

CPU per permit, which a shared machine disturbs far less than wall time:
  single_cpu_ms         median CPU time (this process) of the single renders above.
  worker_cpu_ms         CPU time all workers used (Linux: the forkserver's reaped children),
                        divided by --permits: rendering, merging, starting and warming up.
  worker_cpu_ratio      worker_cpu_ms / single_cpu_ms: 1.0 means a worker prints a permit as
                        cheaply as a warm single render in this process.

The LAST line printed is one JSON object:
  {"permits", "workers", "wall_seconds", "single_median_ms", "sequential_estimate_seconds",
   "ratio", "pages", "single_cpu_ms", "worker_cpu_ms", "worker_cpu_ratio"}
  (the worker CPU fields are null where /proc cannot tell)

Usage: python bench/batch_print.py [--permits 500] [--singles 20] [--workers N] [--chunk-size K]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pypdf  # noqa: E402

from reports.papers import render_permit  # noqa: E402
from reports.parallel import render_batch  # noqa: E402
from tests.paper_samples import LETTERHEAD, PERMIT  # noqa: E402

WARMUP = 3


def machine_busy_seconds() -> float | None:
    """CPU seconds all processes on the machine have used so far (Linux /proc/stat), or None."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq = (int(value) for value in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def workers_cpu_seconds() -> float | None:
    """CPU seconds used by the exited children of multiprocessing's forkserver, i.e. by the
    workers of the batches so far (Linux; reads a private attribute, so None if it moved)."""
    from multiprocessing import forkserver

    pid = getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, TypeError):
        return None
    cutime, cstime = (int(value) for value in stat.rsplit(")", 1)[1].split()[13:15])
    return (cutime + cstime) / os.sysconf("SC_CLK_TCK")


def permits(count: int) -> list:
    return [replace(PERMIT, permit_number=f"503/{n:04d}/DPMPTSPTK-IPK/XII/2026") for n in range(1, count + 1)]


def single_times_ms(papers: list, renders: int, cpu: list[float]) -> list[float]:
    """Wall milliseconds of `renders` single renders; their CPU milliseconds are added to `cpu`."""
    times = []
    for index in range(renders):
        paper = papers[index % len(papers)]
        started, started_cpu = time.perf_counter(), time.process_time()
        render_permit(paper, LETTERHEAD, "F4")
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--permits", type=int, default=500, help="permits in the batch; default 500")
    parser.add_argument("--singles", type=int, default=20, help="single renders timed for the median; default 20")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help=f"worker processes; default the CPU count ({os.cpu_count()})")
    parser.add_argument("--chunk-size", type=int, default=None,
                        help="permits per chunk; default render_batch's own: ceil(permits / (workers * 4)), "
                             "at most 16")
    args = parser.parse_args()

    papers = permits(args.permits)
    for paper in papers[:WARMUP]:
        render_permit(paper, LETTERHEAD, "F4")
    # Half the single renders before the batch, half after: the machine may be shared, and
    # both sides of the ratio should see the same conditions.
    singles_cpu: list[float] = []
    singles = single_times_ms(papers, (args.singles + 1) // 2, singles_cpu)

    jobs = [(render_permit, (paper, LETTERHEAD, "F4")) for paper in papers]
    with tempfile.TemporaryDirectory(prefix="loket-bench-") as directory:
        out = Path(directory) / "permits.pdf"
        done: list[tuple[float, int]] = []
        busy_before, own_before = machine_busy_seconds(), sum(os.times()[:2])
        started = time.perf_counter()
        pages = render_batch(jobs, out, workers=args.workers, chunk_size=args.chunk_size,
                             progress=lambda count: done.append((time.perf_counter() - started, count)))
        wall = time.perf_counter() - started
        busy_after, own_after = machine_busy_seconds(), sum(os.times()[:2])
        time.sleep(0.5)  # the forkserver reaps the workers that have just exited
        workers_cpu = workers_cpu_seconds()
        size = out.stat().st_size
        if len(pypdf.PdfReader(out).pages) != pages:
            raise SystemExit("render_batch's page count does not match the file")

    singles += single_times_ms(papers, args.singles // 2, singles_cpu)
    single_cpu_ms = statistics.median(singles_cpu)
    worker_cpu_ms = workers_cpu / args.permits * 1000 if workers_cpu is not None else None
    single_ms = statistics.median(singles)
    sequential = single_ms * args.permits / 1000
    first_chunk = done[0][0] if done else float("nan")
    last_chunk = done[-1][0] if done else float("nan")
    print(f"single render_permit: {single_ms:.1f} ms median over {len(singles)} (after {WARMUP} warm-up; "
          f"half before the batch, {statistics.median(singles[:(args.singles + 1) // 2]):.1f} ms, "
          f"half after, {statistics.median(singles[(args.singles + 1) // 2:] or [float('nan')]):.1f} ms)")
    print(f"batch: {args.permits} permits, {pages} pages, {size / 1e6:.1f} MB, {args.workers} workers, "
          f"{len(done)} chunks")
    print(f"  first chunk done {first_chunk:.2f} s, last {last_chunk:.2f} s, file in place {wall:.2f} s "
          f"(final concatenation {wall - last_chunk:.2f} s)")
    print(f"single render_permit CPU: {single_cpu_ms:.1f} ms median")
    if worker_cpu_ms is not None:
        print(f"  workers used {workers_cpu:.1f} CPU s, {worker_cpu_ms:.1f} ms a permit "
              f"(rendering + merging its chunk), {worker_cpu_ms / single_cpu_ms:.2f} x a single render's CPU; "
              f"this process {own_after - own_before:.1f} CPU s")
    if busy_before is not None and busy_after is not None and workers_cpu is not None:
        others = max(0.0, (busy_after - busy_before) - workers_cpu - (own_after - own_before))
        print(f"  other processes on the machine used {others:.1f} CPU s meanwhile "
              f"({others / wall:.2f} of {os.cpu_count()} cores): well above 0, the ratio is pessimistic")
    print(f"  sequential estimate {sequential:.1f} s, ratio {wall / sequential:.3f}")
    print(json.dumps({
        "permits": args.permits,
        "workers": args.workers,
        "wall_seconds": round(wall, 2),
        "single_median_ms": round(single_ms, 2),
        "sequential_estimate_seconds": round(sequential, 2),
        "ratio": round(wall / sequential, 3),
        "pages": pages,
        "single_cpu_ms": round(single_cpu_ms, 2),
        "worker_cpu_ms": round(worker_cpu_ms, 2) if worker_cpu_ms is not None else None,
        "worker_cpu_ratio": round(worker_cpu_ms / single_cpu_ms, 3) if worker_cpu_ms is not None else None,
    }))


if __name__ == "__main__":
    main()
