"""Executors turn a list of tasks into results; they know nothing about faces or AUs.

`local` runs tasks in a process pool (one worker per core, or one per GPU) or in-process for one
worker. `ray` runs them on long-lived Ray actors (one GPU each when the cluster has GPUs), so a
worker loads its model once; a task whose worker dies is retried a bounded number of times, then
handed to `on_error`. Both yield results in completion order; what to do with them (and where
files go) is the caller's business, so a Ray run writes exactly what a local run writes.

`shares_disk` says whether the workers see this machine's files; `share(value)` makes a value that
many tasks need (a face) travel once per node (Ray's object store) instead of once per task.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import socket
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from equime.errors import EquimeError

log = logging.getLogger(__name__)

OnError = Callable[[Any, str], Any]  # (item, reason) -> a result standing in for fn(item)


class Shared(Protocol):
    def get(self) -> Any:
        """The shared value, inside a worker."""
        ...


@dataclass(frozen=True)
class Held:
    """A value that travels with each task naming it (local processes: pickled per task)."""

    value: Any

    def get(self) -> Any:
        return self.value


@dataclass(frozen=True)
class InObjectStore:
    """A value put once into Ray's object store: each node fetches it once, whichever worker asks,
    and Ray frees it when the last task holding the reference is gone."""

    ref: Any

    def get(self) -> Any:
        import ray

        return ray.get(self.ref)


class Executor(Protocol):
    workers: int
    shares_disk: bool  # workers see this machine's files at the same paths

    def share(self, value: Any) -> Shared:
        """A handle to `value` that tasks carry and workers open with `.get()`."""
        ...

    def map(
        self, fn: Callable[[Any], Any], items: Iterable[Any], on_error: OnError | None = None
    ) -> Iterator[Any]:
        """Yield fn(item) for every item, in completion order."""
        ...


def _claim_gpu(counter: Any, gpus: int) -> None:
    """Process-pool initializer: each worker process sees one GPU, round robin."""
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    os.environ["CUDA_VISIBLE_DEVICES"] = str(index % gpus)


class LocalExecutor:
    shares_disk = True

    def __init__(self, workers: int = 0, gpus: int = 0) -> None:
        self.gpus = gpus
        default = gpus if gpus > 0 else (os.cpu_count() or 1)
        self.workers = workers if workers > 0 else default

    def share(self, value: Any) -> Shared:
        return Held(value)

    def map(
        self, fn: Callable[[Any], Any], items: Iterable[Any], on_error: OnError | None = None
    ) -> Iterator[Any]:
        items = list(items)
        if self.workers == 1 or len(items) <= 1:
            yield from (fn(item) for item in items)
            return
        context = multiprocessing.get_context("spawn")  # mediapipe and OpenCV hold threads: no fork
        init: dict[str, Any] = {}
        if self.gpus > 0:
            init = {"initializer": _claim_gpu, "initargs": (context.Value("i", 0), self.gpus)}
        with ProcessPoolExecutor(min(self.workers, len(items)), mp_context=context, **init) as pool:
            futures = [pool.submit(fn, item) for item in items]
            try:
                for future in as_completed(futures):
                    yield future.result()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise


def check_address(address: str, timeout: float = 5.0) -> None:
    """ray.init waits a long time on an address nobody listens at; say so in seconds instead."""
    match = re.match(r"^(?:ray://)?\[?([\w.:-]+?)\]?:(\d+)$", address)
    if match is None:  # 'auto' and other forms: leave them to Ray
        return
    try:
        socket.create_connection((match[1], int(match[2])), timeout=timeout).close()
    except OSError as exc:
        raise EquimeError(f"ray: cannot reach {address} ({exc.strerror or exc})") from None


def worker_pythonpath() -> str:
    """This checkout's package first, then the driver's PYTHONPATH: what local workers import."""
    package_root = str(Path(__file__).resolve().parents[2])
    return os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)


def start_ray(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Connect to a cluster (or start a local one); True when this call started Ray.

    A local cluster's workers get this checkout's package on their path, so a development tree
    (PYTHONPATH=src) works like an installed one.
    """
    try:
        import ray
    except ImportError:
        raise EquimeError("--executor ray needs Ray: pip install 'equime[ray]'") from None
    if ray.is_initialized():
        return False
    options: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "logging_level": logging.WARNING,
    }
    if address is not None:
        check_address(address)
    else:
        options["num_cpus"] = num_cpus
        options["runtime_env"] = {"env_vars": {"PYTHONPATH": worker_pythonpath()}}
    try:
        ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = address or "a local cluster"
        raise EquimeError(f"ray: cannot connect to {where} ({exc})") from None
    return True


class _Worker:
    """A Ray actor: a long-lived process, so whatever a task caches (a model) is loaded once."""

    def run(self, fn: Callable[[Any], Any], item: Any) -> Any:
        return fn(item)

    def pid(self) -> int:
        return os.getpid()


class RayExecutor:
    def __init__(
        self, workers: int = 0, address: str | None = None, gpu: bool = False, retries: int = 2
    ) -> None:
        import ray

        self._started = start_ray(address, workers or None)
        # only a cluster equime started here runs on this machine; any other may span nodes
        self.shares_disk = self._started and address is None
        resources = ray.cluster_resources()
        self.gpus = int(resources.get("GPU", 0)) if gpu else 0
        # a model-backed task without GPUs gets one worker: one model in memory, not one per core
        default = self.gpus or (1 if gpu else int(resources.get("CPU", 1)))
        self.workers = workers if workers > 0 else default
        self.retries = max(0, retries)
        self._actor_class = ray.remote(_Worker)

    def _spawn(self) -> Any:
        return self._actor_class.options(num_cpus=1, num_gpus=1 if self.gpus else 0).remote()

    def share(self, value: Any) -> Shared:
        import ray

        return InObjectStore(ray.put(value))

    def map(
        self, fn: Callable[[Any], Any], items: Iterable[Any], on_error: OnError | None = None
    ) -> Iterator[Any]:
        """One task in flight per actor; a failed task goes back to the front of the queue until
        it has failed `retries + 1` times. A dead actor is replaced by a fresh one.

        Back-pressure: an actor gets its next task only after the caller has taken its previous
        result, so at most `workers` finished results wait (in Ray's object store) and the driver
        holds one at a time. Items are drawn from `items` only as actors free up, so what they
        carry (shared faces) lives only while its tasks do."""
        import ray
        from ray.exceptions import RayError, RayTaskError

        source = enumerate(items)
        again: deque[tuple[int, Any]] = deque()  # failed tasks, retried before new ones
        failures: dict[int, int] = {}
        actors: list[Any] = []
        idle: list[int] = []
        running: dict[Any, tuple[int, int, Any]] = {}
        try:
            while True:
                while idle or len(actors) < self.workers:
                    work = again.popleft() if again else next(source, None)
                    if work is None:
                        break
                    if not idle:
                        actors.append(self._spawn())
                        idle.append(len(actors) - 1)
                    slot = idle.pop()
                    running[actors[slot].run.remote(fn, work[1])] = (slot, *work)
                if not running:
                    return
                (ref,), _ = ray.wait(list(running), num_returns=1)
                slot, index, item = running.pop(ref)
                try:
                    result = ray.get(ref)
                except RayTaskError as exc:  # the task raised; the worker lives
                    cause = exc.cause
                    if isinstance(cause, EquimeError):  # a user-caused error stops the run
                        raise EquimeError(str(cause)) from None
                    reason = f"{type(cause).__name__}: {cause}"
                except RayError as exc:  # the worker died (killed, out of memory, node lost)
                    ray.kill(actors[slot], no_restart=True)
                    actors[slot] = self._spawn()
                    reason = f"worker died ({type(exc).__name__})"
                else:
                    idle.append(slot)
                    yield result
                    del result  # the next task starts only once this one is written
                    continue
                idle.append(slot)
                failures[index] = failures.get(index, 0) + 1
                times = f"{failures[index]} time{'s' if failures[index] > 1 else ''}"
                if failures[index] <= self.retries:
                    log.warning("task %d failed (%s); retry %d", index, reason, failures[index])
                    again.appendleft((index, item))
                elif on_error is not None:
                    yield on_error(item, f"failed {times}: {reason}")
                else:
                    raise EquimeError(f"ray: a task failed {times}: {reason}")
        finally:
            for actor in actors:
                ray.kill(actor, no_restart=True)

    def close(self) -> None:
        """Shut Ray down if this executor started it (a cluster someone else runs stays up)."""
        import ray

        if self._started and ray.is_initialized():
            ray.shutdown()


EXECUTORS: dict[str, Callable[..., Executor]] = {"local": LocalExecutor, "ray": RayExecutor}


def create_executor(name: str, **options: Any) -> Executor:
    if name not in EXECUTORS:
        raise EquimeError(f"unknown executor '{name}'; available: {', '.join(EXECUTORS)}")
    return EXECUTORS[name](**options)
