"""`python -m benchmarks`: run the suite."""

import sys

from benchmarks.suite import main

sys.exit(main())
