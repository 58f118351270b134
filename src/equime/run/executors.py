"""Executors turn a list of tasks into results; they know nothing about faces or AUs.

`local` runs tasks in a process pool (one worker per core by default) or in-process for one worker.
A distributed executor only has to offer the same `map`.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Protocol

from equime.errors import EquimeError


class Executor(Protocol):
    workers: int

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        """Yield fn(item) for every item, in completion order."""
        ...


class LocalExecutor:
    def __init__(self, workers: int = 0) -> None:
        self.workers = workers if workers > 0 else (os.cpu_count() or 1)

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        items = list(items)
        if self.workers == 1 or len(items) <= 1:
            yield from (fn(item) for item in items)
            return
        context = multiprocessing.get_context("spawn")  # mediapipe and OpenCV hold threads: no fork
        with ProcessPoolExecutor(min(self.workers, len(items)), mp_context=context) as pool:
            futures = [pool.submit(fn, item) for item in items]
            try:
                for future in as_completed(futures):
                    yield future.result()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise


EXECUTORS: dict[str, Callable[..., Executor]] = {"local": LocalExecutor}


def create_executor(name: str, **options: Any) -> Executor:
    if name not in EXECUTORS:
        raise EquimeError(f"unknown executor '{name}'; available: {', '.join(EXECUTORS)}")
    return EXECUTORS[name](**options)
