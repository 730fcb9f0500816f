"""Singer tap for CallRail API v3."""
