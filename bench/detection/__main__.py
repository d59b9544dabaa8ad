"""`python -m bench.detection`: the detection speed benchmark (see `speed.py`)."""

import sys

from bench.detection.speed import main

sys.exit(main())
