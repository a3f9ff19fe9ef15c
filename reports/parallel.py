"""Batch printing on several cores: many documents rendered in worker processes, merged into one PDF.

xhtml2pdf is pure Python and reports.pdf renders under a process-wide lock, so threads in one
process print one document at a time. render_batch cuts the jobs into contiguous chunks and
renders each chunk in a worker PROCESS; the worker writes its documents' PDFs one after another
into a temporary chunk file, and the parent merges them, in job order, into the output file.

Workers are started with "forkserver" (or "spawn" where there is none), never "fork": the
caller may be a multi-threaded web server or queue consumer, and a forked child inherits its
locks in whatever state other threads left them. The forkserver preloads the reports modules,
renders one small page and freezes its heap (reports.forkserver_preload), so each worker starts
from an interpreter that has imported and warmed up xhtml2pdf, reportlab and pypdf, and prints
its first permit as cheaply as its last.

Workers die with the process that asked for the batch. A killed caller closes nothing that an
idle worker waits on (each holds both ends of its task queue), and the forkserver lives as long
as any worker does (they all hold its "alive" pipe): so each worker watches its caller and exits
when it is gone, and the forkserver, its last client gone, exits by itself. On Linux a worker
also asks the kernel to kill it when its own parent (the forkserver) dies.

The output and the chunk files are 0600 whatever the umask: they are permits and registers.
"""
from __future__ import annotations

import ctypes
import io
import math
import multiprocessing
import os
import select
import shutil
import signal
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path

import pypdf

Job = tuple[Callable[..., bytes], tuple]

# Imported once by the forkserver, so forked workers do not import them again per batch; the
# last one warms the renderer up and freezes the forkserver's heap (see reports.forkserver_preload).
PRELOAD = ["reports.pdf", "reports.papers", "reports.register_book", "reports.parallel", "pypdf"]
PRELOAD_LAST = "reports.forkserver_preload"

# Chunks when no chunk_size is given ("guided" sizes): each chunk takes its share of what is
# left, ceil(remaining / (workers * CHUNKS_PER_WORKER)), at most MAX_CHUNK documents (a permit
# takes ~0.1 s). So each worker gets a few chunks, and the chunks shrink towards the end: no
# worker sits idle for long while another finishes a big last chunk. A chunk costs one task
# round-trip and one temporary file, little next to rendering even one document.
CHUNKS_PER_WORKER = 4
MAX_CHUNK = 16

FILE_MODE = 0o600
TEMP_PREFIX = "loket-batch-"
PR_SET_PDEATHSIG = 1  # linux/prctl.h
WATCHDOG_SECONDS = 1.0  # where the kernel cannot tell a worker that its caller died, it looks this often


class BatchRenderError(RuntimeError):
    """A document of the batch could not be rendered; no output file was written."""


def _main_module() -> list[str]:
    """The caller's main module under a name the forkserver can import it by, if there is one.

    Every worker runs the caller's main module again, as "__mp_main__" (that is how spawn and
    forkserver give it the main module's functions). For `python run.py` that means importing
    the whole Flask app, ~2.7 s, in each worker of each batch. Imported once in the forkserver
    beforehand, what it imports is already loaded in every worker, and running it again is
    cheap. (multiprocessing's own default preload, "__main__", does not do this on Python 3.11:
    the forkserver is not told the main module's path, nor sys.path; _start_forkserver hands it
    the caller's own folders.) It is imported only where the workers
    run it anyway (multiprocessing.spawn.get_preparation_data / prepare), and that is safe for
    the same reason: such a main module guards its work with `if __name__ == "__main__"`. A
    package's __main__.py (python -m flask, python -m pytest) runs unguarded; the workers
    leave it alone, and so does this.
    """
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name:  # python -m some.module
        return [] if spec.name == "__main__" or spec.name.endswith(".__main__") else [spec.name]
    path = getattr(main, "__file__", None)
    if path and path.endswith(".py"):  # python script.py: its directory is on sys.path
        folder = Path(path).resolve().parent
        if any(Path(entry or ".").resolve() == folder for entry in sys.path):
            return [Path(path).stem]
    return []


def _own_import_folders() -> list[str]:
    """The folders on sys.path that are the caller's own, not the interpreter's or its packages'
    (which a fresh interpreter finds by itself): the script's folder, the project root, ..."""
    paths = sysconfig.get_paths()
    system = [Path(paths[key]).resolve() for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths]
    own = []
    for entry in sys.path:
        folder = Path(entry or os.getcwd()).resolve()
        if folder.is_dir() and not any(folder == top or top in folder.parents for top in system) \
                and str(folder) not in own:
            own.append(str(folder))
    return own


def _start_forkserver() -> None:
    """Starts the forkserver (if it is not running) with the caller's import folders on its path.

    Python 3.11's forkserver ignores the caller's sys.path: it starts with the interpreter's own
    and the current folder. The reports modules and the caller's main module then fail to preload
    (silently), and every worker imports them itself: for a script such as bench/batch_print.py,
    which imports the app, 0.6 s of CPU per worker per batch. PYTHONPATH is set only while the
    forkserver process is started.
    """
    from multiprocessing import forkserver

    folders = _own_import_folders()
    previous = os.environ.get("PYTHONPATH")
    if folders:
        os.environ["PYTHONPATH"] = os.pathsep.join(folders + ([previous] if previous else []))
    try:
        forkserver.ensure_running()
    finally:
        if previous is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = previous


def _mp_context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        # Process-wide, and takes effect when the forkserver starts (the first batch in this process).
        context.set_forkserver_preload(_main_module() + PRELOAD + [PRELOAD_LAST])
        _start_forkserver()
        return context
    return multiprocessing.get_context("spawn")


def _open_private(path: Path | str) -> int:
    """A file descriptor for writing `path` afresh, mode 0600 whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return fd


def process_alive(pid: int) -> bool:
    """Whether a process of this id exists (someone else's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _die_with_parent() -> None:
    """Linux: the kernel sends SIGKILL to this process when its parent dies (prctl PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no prctl: the watchdog is enough
        return
    if os.getppid() != parent:  # it died before the request was made
        os._exit(1)


def _watch_owner(owner: int, parent: int) -> None:
    """Returns when the owner process is gone: at once on Linux (a pidfd becomes readable when the
    process exits), else by polling it and this process's parent."""
    try:
        fd = os.pidfd_open(owner)
    except ProcessLookupError:
        return
    except (AttributeError, OSError):  # not Linux 5.3+: poll
        while os.getppid() == parent and process_alive(owner):
            time.sleep(WATCHDOG_SECONDS)
        return
    select.select([fd], [], [])


def _worker_started(owner: int) -> None:
    """ProcessPoolExecutor initializer, in each worker: exit as soon as `owner`, the process that
    asked for the batch, is gone, whatever this worker is doing (idle, or mid-document)."""
    _die_with_parent()

    def watchdog() -> None:
        _watch_owner(owner, os.getppid())
        os._exit(1)  # nobody is left to take this worker's chunks

    threading.Thread(target=watchdog, name="loket-print-watchdog", daemon=True).start()


def remove_stale_batch_dirs(older_than_seconds: float) -> int:
    """Deletes the chunk folders that a killed batch left in the temp folder (a live batch writes
    in its own every few seconds). Returns how many were deleted."""
    cutoff = time.time() - older_than_seconds
    removed = 0
    for folder in Path(tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*"):
        try:
            info = folder.lstat()
        except FileNotFoundError:
            continue
        if folder.is_dir() and not folder.is_symlink() and info.st_uid == os.getuid() and info.st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def _describe(function: Callable[..., bytes]) -> str:
    return f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', repr(function))}"


def _render_chunk(first: int, jobs: Sequence[Job], path: str) -> int:
    """In a worker: render jobs[first...] into the file at `path`, each PDF as it came out of its
    renderer after its length (8 bytes, big-endian); return how many. The parent merges them: a
    worker only renders, as a single render does, and no PDF is parsed and written twice.

    A failing document raises BatchRenderError naming it (a plain message: it crosses the
    process boundary by pickling). The original exception rides along as the remote traceback.
    """
    with os.fdopen(_open_private(path), "wb") as out:
        for offset, (function, args) in enumerate(jobs):
            number = first + offset + 1
            try:
                pdf = function(*args)
            except Exception as exc:
                raise BatchRenderError(
                    f"document {number} ({_describe(function)}) failed: {type(exc).__name__}: {exc}"
                ) from exc
            out.write(len(pdf).to_bytes(8, "big"))
            out.write(pdf)
    return len(jobs)


def _rendered(path: Path) -> Iterator[bytes]:
    """The PDFs a worker wrote to `path` (see _render_chunk), in order."""
    with path.open("rb") as chunk:
        while size := chunk.read(8):
            yield chunk.read(int.from_bytes(size, "big"))


def _check_jobs(jobs: Sequence[Job]) -> None:
    for number, job in enumerate(jobs, start=1):
        if not (isinstance(job, tuple) and len(job) == 2 and callable(job[0]) and isinstance(job[1], tuple)):
            raise TypeError(f"job {number} is not (render function, args tuple): {job!r}")


def _chunks(count: int, workers: int, chunk_size: int | None) -> list[range]:
    """Contiguous ranges of job indices covering 0..count-1, in order."""
    if chunk_size is not None:
        return [range(start, min(start + chunk_size, count)) for start in range(0, count, chunk_size)]
    chunks, start = [], 0
    while start < count:
        size = min(math.ceil((count - start) / (workers * CHUNKS_PER_WORKER)), MAX_CHUNK)
        chunks.append(range(start, start + size))
        start += size
    return chunks


@contextmanager
def worker_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """Worker processes like render_batch's (forkserver, preloaded, dying with their caller), for a
    caller that wants each document back rather than one merged file (the batch signing)."""
    with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=_mp_context(),
                             initializer=_worker_started, initargs=(os.getpid(),)) as pool:
        yield pool


def as_is(pdf: bytes) -> bytes:
    """A job whose document is already made (an electronically signed permit, kept as signed)."""
    return pdf


def render_batch(jobs: Sequence[Job], out_path: Path, workers: int | None = None,
                 chunk_size: int | None = None, progress: Callable[[int], None] | None = None) -> int:
    """Render every job, `function(*args) -> PDF bytes`, into one PDF at `out_path`; return its pages.

    jobs:        (render function, args) per document, in output order. The function must be
                 importable by name in a fresh interpreter (a module-level function) and the
                 args picklable, e.g. (render_permit, (paper, letterhead, "F4")).
    workers:     worker processes; default os.cpu_count(). Never more than there are chunks.
    chunk_size:  documents per chunk. By default chunks are sized from what is left to do:
                 ceil(remaining / (workers * 4)), at most MAX_CHUNK (16), so each worker gets a
                 few chunks and the last ones are small.
    progress:    called in this process with the number of documents done so far, as chunks finish.

    The parent appends the chunk files to the output as soon as they are ready in order, while
    the workers go on rendering. out_path is written atomically (`.part` file, then
    os.replace). If any document fails, BatchRenderError is raised naming it, and neither
    out_path nor the .part file is left (an earlier out_path stays as it was); temporary chunk
    files are removed in every case.
    """
    jobs = list(jobs)
    if not jobs:
        raise ValueError("no documents to print")
    _check_jobs(jobs)
    out_path = Path(out_path)
    if workers is None:
        workers = os.cpu_count() or 1
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
    chunks = _chunks(len(jobs), workers, chunk_size)
    workers = min(workers, len(chunks))

    part = out_path.with_suffix(".part")
    temp_dir = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))  # 0700
    paths = [temp_dir / f"chunk-{index:06d}.pdf" for index in range(len(chunks))]
    writer = pypdf.PdfWriter()
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context(),
                                 initializer=_worker_started, initargs=(os.getpid(),)) as pool:
            pending: dict[Future[int], int] = {
                pool.submit(_render_chunk, chunk.start, jobs[chunk.start:chunk.stop], str(path)): index
                for index, (chunk, path) in enumerate(zip(chunks, paths, strict=True))
            }
            try:
                ready: set[int] = set()
                merged = done_documents = 0
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in sorted(done, key=pending.__getitem__):
                        index = pending.pop(future)
                        chunk = chunks[index]
                        try:
                            future.result()
                        except BatchRenderError:
                            raise
                        except Exception as exc:  # e.g. a job that cannot be pickled, a worker killed
                            which = f"document {chunk.stop}" if len(chunk) == 1 else \
                                f"documents {chunk.start + 1}-{chunk.stop}"
                            raise BatchRenderError(f"{which} failed: {type(exc).__name__}: {exc}") from exc
                        ready.add(index)
                        done_documents += len(chunk)
                        if progress is not None:
                            progress(done_documents)
                    # Append what is ready in order; the workers render on meanwhile.
                    while merged in ready:
                        for pdf in _rendered(paths[merged]):
                            writer.append(pypdf.PdfReader(io.BytesIO(pdf)))
                        paths[merged].unlink()
                        merged += 1
            except BaseException:
                for future in pending:
                    future.cancel()
                raise

        pages = len(writer.pages)
        with os.fdopen(_open_private(part), "wb") as out:
            writer.write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, out_path)
        return pages
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(temp_dir, ignore_errors=True)
