"""Run the command line as `python -m stash_sense`."""

import sys

from stash_sense.cli import main

sys.exit(main())
