"""`python -m equime.ui.runner JOBDIR`: run one job's `equime` command and record how it ended.

The exit code is written by the job's own process, so it is known even if the page restarted. The
command runs as `python -m equime ARGV` (the public command line), so the page never reaches into
the CLI's internals and sits below it in the package order.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from equime.files import write_text_atomic


def main(folder: str) -> int:
    # A job started from a background shell inherits 'ignore Ctrl-C'; Cancel relies on it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    job = Path(folder)
    spec = json.loads((job / "job.json").read_text(encoding="utf-8"))
    # The child shares this process group, so Cancel's Ctrl-C reaches it too.
    child = subprocess.Popen([sys.executable, "-m", "equime", *spec["argv"]])
    try:
        code = child.wait()
    except KeyboardInterrupt:
        code = child.wait()
    if code < 0:  # ended by a signal, reported as a shell would
        code = 128 - code
    sys.stdout.flush()
    sys.stderr.flush()
    result = {"returncode": code, "ended": time.time()}
    write_text_atomic(job / "result.json", json.dumps(result))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
