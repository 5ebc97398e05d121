"""Reading transcripts into what the store inserts, on several processes (DESIGN sections 7, 10).

A scan (:func:`claude_usage.sources.transcripts.scan_file`) is prepared where it was made: the
64-bit key of every response and tool use, the cost of every response (the one pricing
function, :class:`~claude_usage.pricing.Pricer`) and its flags. On a large refresh this runs in
worker processes, so that the process writing the store does little more than insert rows.
Workers end with the process that started them (kill -9 included).
"""

from __future__ import annotations

import hashlib
import os
import time
from typing import Any, Iterator, Sequence

import msgspec

from claude_usage.records import UsageRecord
from claude_usage.sources.transcripts import FileScan, scan_file
from claude_usage.store.schema import COST_SCALE, FAST, FAST_UNPRICED, GEO_US, PLACEHOLDER, SIDECHAIN

PARALLEL_MIN_BYTES = 16 << 20
_WORKER_PRICER: list = []  # the pricer a forked worker uses (a copy of the parent's)


def key_hash(key: str) -> int:
    """The 64-bit id of a response key (or a tool-use id), as a signed integer: the same on
    every machine (team mode dedupes across machines with it)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


def cost_units(usd: float | None) -> int | None:
    """A USD amount in the store's integer units (1e-10 USD), None passes."""
    return None if usd is None else round(usd * COST_SCALE)


def flags_of(record: UsageRecord, fast_unpriced: bool) -> int:
    """The ``requests.flags`` bits of a record (sidechain, fast, US-only, placeholder, priced
    at the standard rate for want of a fast price)."""
    return ((SIDECHAIN if record.sidechain else 0) | (FAST if record.speed == "fast" else 0)
            | (GEO_US if record.inference_geo == "us" else 0) | (PLACEHOLDER if record.placeholder else 0)
            | (FAST_UNPRICED if fast_unpriced else 0))


class Prepared(msgspec.Struct, array_like=True):
    """A scan with, per record, its key hash, cost (store units, None when unknown) and flags,
    and the key hashes of its tool uses and failed tool results."""

    scan: FileScan
    keys: list[int]
    costs: list[int | None]
    flags: list[int]
    tool_keys: list[int]
    error_keys: list[int]


def prepare(scan: FileScan, pricer: Any) -> Prepared:
    """Hash and price a scan (the hot path of a build: plain arithmetic per record)."""
    keys, costs, flags = [], [], []
    price = pricer.price
    for record in scan.records:
        cost, fast_unpriced = price(record)
        keys.append(key_hash(record.key))
        costs.append(None if cost is None else round(cost * COST_SCALE))
        flags.append(flags_of(record, fast_unpriced))
    return Prepared(scan, keys, costs, flags, [key_hash(call.id) for call in scan.tool_calls],
                    [key_hash(tool_use_id) for tool_use_id, _offset in scan.tool_errors])


_DECODE = msgspec.msgpack.Decoder(Prepared)


def _start_worker() -> None:
    """In a scanning worker: end when the parent ends (PR_SET_PDEATHSIG on Linux, and a watch
    of the parent's pid everywhere), and price without the parent's database connection."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    import threading

    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
    if _WORKER_PRICER:
        _WORKER_PRICER[0].store = None  # the parent's connection is not this process's to use


IN_FLIGHT_PER_WORKER = 3  # files submitted ahead per scanning process


def _job(source: Any, start: int) -> bytes:
    return msgspec.msgpack.encode(prepare(scan_file(source, start), _WORKER_PRICER[0]))


def scan_many(plans: Sequence[Any], pricer: Any, workers: int | None = None) -> Iterator[tuple[Any, Prepared]]:
    """Scan and prepare the planned files (``plan.source``, ``plan.start``, ``plan.size``), on
    several processes when there is enough to read; results come in completion order."""
    total = sum(p.size - p.start for p in plans)
    workers = workers if workers is not None else (os.cpu_count() or 1)
    import multiprocessing

    forking = "fork" in multiprocessing.get_all_start_methods()  # workers inherit the pricer
    if workers <= 1 or len(plans) < 2 or total < PARALLEL_MIN_BYTES or not forking:
        for plan in plans:
            yield plan, prepare(scan_file(plan.source, plan.start), pricer)
        return
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    _WORKER_PRICER[:] = [pricer]  # inherited by the forked workers
    workers = min(workers, len(plans))
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                             initializer=_start_worker) as pool:
        # Largest first, so that the last file to finish is a small one. A few files per worker
        # in flight at most: results wait in memory only until the writer takes them, never the
        # whole history's.
        order = iter(sorted(plans, key=lambda p: p.size - p.start, reverse=True))
        pending: dict[Any, Any] = {}

        def submit_next() -> None:
            plan = next(order, None)
            if plan is not None:
                pending[pool.submit(_job, plan.source, plan.start)] = plan

        for _ in range(workers * IN_FLIGHT_PER_WORKER):
            submit_next()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                plan = pending.pop(future)
                submit_next()
                yield plan, _DECODE.decode(future.result())
