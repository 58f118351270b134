"""The Reports tab: run `equime stats` / `equime quality` on a dataset and show what they wrote."""

from __future__ import annotations

import gradio as gr

from equime.errors import EquimeError
from equime.ui import browse, reports
from equime.ui.guard import guard
from equime.ui.html import friendly, progress_html
from equime.ui.jobs import DONE, RUNNING
from equime.ui.page import Page


def build(page: Page, app: gr.Blocks, tab: gr.Tab) -> None:
    gr.Markdown("Run a report on a dataset; its plots and tables appear below.")
    dataset = gr.Dropdown([], label="Dataset", elem_id="rep-dataset")
    with gr.Row():
        buttons = {
            name: gr.Button(f"Run {name}", elem_id=f"rep-{name}") for name in reports.REPORTS
        }
    job_state = gr.State(None)
    status = gr.HTML("", elem_id="rep-status")
    gallery = gr.Gallery(
        label="Plots", columns=2, object_fit="contain", height=520, elem_id="rep-gallery"
    )
    text = gr.Markdown("", elem_id="rep-md")

    def show(ds: str | None):
        if not ds:
            return [], ""
        root = page.dataset_path(ds)
        pngs, md = [], []
        for name in reports.REPORTS:
            p, m = reports.collect(reports.report_dir(root, name))
            pngs += [(str(x), f"{name}: {x.name}") for x in p]
            if m:
                md.append(m)
        return pngs, "\n\n---\n\n".join(md)

    for name, button in buttons.items():

        @guard(2, 1)
        def on_click(ds, report=name):
            job_id = page.start_report(ds, report)
            return job_id, progress_html(0, f"Running equime {report}…", "rep-progress")

        button.click(on_click, dataset, [job_state, status])

    def poll(job_id: str | None, ds: str | None):
        if not job_id:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        st = page.jobs.status(job_id)
        if st.state == RUNNING:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        pngs, md = show(ds)
        line = st.message if st.state == DONE else friendly(EquimeError(st.message))
        return None, line, pngs, md

    timer = gr.Timer(1.0)
    timer.tick(
        poll, [job_state, dataset], [job_state, status, gallery, text], show_progress="hidden"
    )
    dataset.change(show, dataset, [gallery, text])
    # the list is read again whenever the tab is opened: a dataset made meanwhile is there
    listing = lambda: gr.update(choices=browse.list_datasets(page.roots.datasets))  # noqa: E731
    app.load(listing, None, dataset)
    tab.select(listing, None, dataset)
