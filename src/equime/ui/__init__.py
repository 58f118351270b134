"""`equime ui`: a local web page (Gradio) for people who do not use a terminal.

Small modules with one job each: `safety` (what a page may read or write), `jobs` (long work in
background processes whose state lives on disk), `preview`, `browse` and `reports` (plain
functions the page calls), and `app` (the page itself, the only module that imports Gradio).
"""
