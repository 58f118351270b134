"""Handlers that never show a traceback: an error becomes one friendly line in one output."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from equime.ui.html import friendly


def guard(outputs: int, error_at: int) -> Callable:
    """Wrap a handler so an error becomes one friendly line in output `error_at`."""

    def wrap(fn: Callable) -> Callable:
        def handler(*args: Any) -> Any:
            try:
                return fn(*args)
            except Exception as exc:
                result = [gr.skip()] * outputs
                result[error_at] = friendly(exc)
                return tuple(result) if outputs > 1 else result[0]

        return handler

    return wrap
