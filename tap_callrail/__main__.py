"""Allow `python -m tap_callrail`."""

from tap_callrail.tap import TapCallRail

TapCallRail.cli()
