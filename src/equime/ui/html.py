"""What the page shows for errors and progress: plain HTML strings, no Gradio."""

from __future__ import annotations

import logging

from equime.errors import EquimeError

log = logging.getLogger(__name__)

CSS = """
#ds-progress progress, #rep-progress progress { width: 100%; height: 1.2em; }
.equime-error { color: #b00020; font-weight: 600; }
"""


def friendly(exc: Exception) -> str:
    """One line a person can act on (the full story goes to the server log)."""
    if isinstance(exc, EquimeError):
        text = str(exc)
    else:
        log.exception("unexpected error in the page")
        text = f"something went wrong ({type(exc).__name__}); the server log has the details"
    return f'<p class="equime-error">⚠️ {text}</p>'


def progress_html(fraction: float, message: str, element: str) -> str:
    value = round(100 * fraction)
    return (
        f'<div id="{element}-box"><progress id="{element}-bar" value="{value}" max="100">'
        f'{value}%</progress><p id="{element}-text">{message}</p></div>'
    )
