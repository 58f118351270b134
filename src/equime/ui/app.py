"""The page: three tabs (Preview, Dataset, Reports) around one controller (`ui.page.Page`).

The only place that launches Gradio. Every handler turns an error into one friendly line on the
page (never a traceback); long work goes to the job registry and the page polls it once a second,
so nothing blocks.
"""

from __future__ import annotations

import os

import gradio as gr

from equime.ui import tab_check, tab_dataset, tab_preview, tab_recognise, tab_reports
from equime.ui.html import CSS
from equime.ui.page import Page
from equime.ui.preview import slider_codes
from equime.ui.safety import Roots

UPLOAD_LIMIT = "50mb"


def build_app(roots: Roots) -> gr.Blocks:
    """The whole page for one set of roots."""
    page = Page(roots)
    codes = slider_codes()
    with gr.Blocks(title="EquiME", analytics_enabled=False) as app:
        app.equime_page = page  # for tests and shutdown
        gr.Markdown(
            "# EquiME\nSynthetic micro-expression videos from face photos. "
            "**Preview** one clip, make a **Dataset**, read its **Reports**, "
            "**Check** a dataset folder before training, **Recognise** a clip with a trained model."
        )
        with gr.Tab("Preview", id="tab-preview"):
            tab_preview.build(page, codes)
        with gr.Tab("Dataset", id="tab-dataset"):
            tab_dataset.build(page, app)
        with gr.Tab("Reports", id="tab-reports") as reports_tab:
            tab_reports.build(page, app, reports_tab)
        with gr.Tab("Check", id="tab-check") as check_tab:
            tab_check.build(page, app, check_tab)
        with gr.Tab("Recognise", id="tab-recognise") as recognise_tab:
            tab_recognise.build(page, app, recognise_tab)
    return app


def launch(
    roots: Roots, host: str = "127.0.0.1", port: int | None = None, block: bool = True
) -> gr.Blocks:
    """Start the page; with block=False, return at once (tests, embedding)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    app = build_app(roots)
    app.queue(default_concurrency_limit=4)
    app.launch(
        server_name=host,
        server_port=port,
        allowed_paths=[str(roots.work.resolve())],
        max_file_size=UPLOAD_LIMIT,
        prevent_thread_lock=not block,
        ssr_mode=False,
        share=False,
        inbrowser=False,
        quiet=not block,
        footer_links=[],
        css=CSS,
    )
    return app
