"""The CallRail client's transport rules: redirects stay within the API's origin, bodies are checked."""

from __future__ import annotations

import re

import pytest

from tap_callrail.api import CallRailClient
from tap_callrail.errors import CallRailRequestError
from tap_callrail.ratelimit import RateBudget
from tap_callrail.retry import RetryPolicy

API = "https://callrail.test/v3"
PAGE = {"page": 1, "per_page": 250, "total_pages": 1, "total_records": 0, "accounts": []}


def _get(path: str = "/a.json") -> dict:
    client = CallRailClient(api_url=API, api_key="k", retry=RetryPolicy(0, 1), budget=RateBudget(0, 0))
    request = client.request(path, "", stream="accounts", account_id=None, label="accounts")
    return client.get(request, item_key="accounts")


def test_a_redirect_within_the_api_origin_is_followed(requests_mock) -> None:
    requests_mock.get(f"{API}/a.json", status_code=301, headers={"Location": "/v3/accounts.json"})
    requests_mock.get(f"{API}/accounts.json", json=PAGE)

    assert _get() == PAGE


@pytest.mark.parametrize(
    "location",
    ["http://callrail.test/v3/a.json", "https://evil.test/v3/a.json", "https://callrail.test:8443/v3/a.json",
     "file:///etc/passwd"],
    ids=["https-to-http", "other-host", "other-port", "file"],
)
def test_a_redirect_outside_the_api_origin_is_one_line_and_not_followed(requests_mock, location: str) -> None:
    requests_mock.get(f"{API}/a.json", status_code=302, headers={"Location": location})

    with pytest.raises(CallRailRequestError, match=re.escape("outside the API URL 'https://callrail.test'")):
        _get()

    assert requests_mock.call_count == 1
