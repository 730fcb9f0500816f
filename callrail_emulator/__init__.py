"""CallRail API v3 emulator: a test and demo instrument for tap-callrail (not installed with it).

Serves the 12 list endpoints the tap reads (callrail-api.md §4-§6) over real HTTP from a
deterministic, seeded data set, with CallRail's pagination, `fields=`, date windows, time
zones, retention limit, auth and permission errors, plus hooks to mutate data and inject faults.

    from callrail_emulator import Emulator
    emu = Emulator(seed=7)
    url = emu.start()          # "http://127.0.0.1:PORT/v3"
    ...
    emu.stop()

Default data set (`Emulator()`), per account (2 accounts): 3 companies (the last disabled),
5 users (one shared by both accounts, member of 2 companies), 6 tags (account- and
company-level, the last disabled), 4 trackers (source and session; the last disabled),
300 calls over the last 700 days, 40 form submissions, 25 conversations, 20 leads,
1 integration and 2 outbound caller ids per company, 3 notifications. The second account's plan
has no outbound caller ids (403). `Emulator(accounts=0)` holds nothing until a test says what
with `add_account` and `put`.
"""

from callrail_emulator.emulator import Emulator

__all__ = ["Emulator"]
