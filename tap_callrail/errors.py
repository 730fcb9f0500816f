"""Expected failures: each carries the one line a user needs to fix the problem."""

from __future__ import annotations


class CallRailError(Exception):
    """A failure the user can act on; reported as one line, without a stack trace."""


class CallRailAuthError(CallRailError):
    """CallRail rejected the API key (HTTP 401)."""


class CallRailRequestError(CallRailError):
    """CallRail refused a request in a way retrying cannot fix (e.g. HTTP 400)."""


class CallRailConfigError(CallRailError):
    """A setting names something CallRail does not know (an account or company id)."""


class CallRailNotFoundError(CallRailRequestError):
    """HTTP 404: the account, company or endpoint does not exist for this key."""


class DataQualityError(CallRailError):
    """data_quality=fail and the run found records that break CallRail's documented shapes."""
