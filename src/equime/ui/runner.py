"""`python -m equime.ui.runner JOBDIR`: run one job's `equime` command and record how it ended.

The exit code is written by the job's own process, so it is known even if the page restarted.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path

from equime.dataset.atomic import write_text_atomic


def main(folder: str) -> int:
    from equime.cli import main as cli_main

    # A job started from a background shell inherits 'ignore Ctrl-C'; Cancel relies on it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    job = Path(folder)
    spec = json.loads((job / "job.json").read_text(encoding="utf-8"))
    try:
        code = cli_main(spec["argv"])
    except SystemExit as exc:  # argparse: an unknown command or flag
        code = exc.code if isinstance(exc.code, int) else 2
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:
        import traceback

        traceback.print_exc()
        print(f"equime: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    result = {"returncode": code, "ended": time.time()}
    write_text_atomic(job / "result.json", json.dumps(result))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
