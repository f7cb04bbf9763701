"""python -m bench — start the private engine, the Slack stand-in and Shipmate, measure, print, write JSON."""

import sys

from bench.run import main

sys.exit(main())
