"""`python -m equime ...`: the same as the `equime` command."""

import sys

from equime.cli import main

sys.exit(main())
