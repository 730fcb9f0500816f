"""The emulator through requests-mock (tests/callrail.py) answers as it does over HTTP."""

from __future__ import annotations

import pytest
import requests
import requests_mock as rm

from callrail_emulator import Emulator
from tests.callrail import serve

from .support import API_KEY, Client

MOCKED = "https://callrail.test/v3"


@pytest.fixture
def mocked(emu: Emulator, requests_mock: rm.Mocker) -> Client:
    requests_mock.real_http = True  # the started emulator answers on 127.0.0.1 meanwhile
    serve(emu, requests_mock, MOCKED)
    return Client(MOCKED)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/a.json", {"fields": "numeric_id"}),
        ("/a/{account}/calls.json", {"per_page": 3, "page": 2, "date_range": "last_30_days",
                                     "fields": "tags,milestones", "time_zone": "America/Chicago"}),
        ("/a/{account}/integrations.json", {}),
        ("/a/{account}/users.json", {"per_page": 251}),
        ("/a/nowhere.json", {}),
    ],
)
def test_status_headers_and_body_are_the_same_as_over_http(
    client: Client, mocked: Client, account: str, path: str, params: dict
) -> None:
    over_http = client.get(path.format(account=account), **params)
    in_process = mocked.get(path.format(account=account), **params)
    assert in_process.status_code == over_http.status_code
    assert in_process.content == over_http.content
    assert in_process.headers["Content-Type"] == over_http.headers["Content-Type"]
    link = over_http.headers.get("Link")
    assert in_process.headers.get("Link") == (link and link.replace(client.base_url, MOCKED))


def test_a_wrong_key_a_drop_and_a_cut_body(emu: Emulator, mocked: Client, account: str) -> None:
    assert Client(MOCKED, api_key=API_KEY + "x").get("/a.json").status_code == 401
    emu.fault_every(1, ("drop",))
    with pytest.raises(requests.ConnectionError):
        mocked.get(f"/a/{account}/tags.json")
    emu.fault_every(1, ("truncated_json",))
    cut = mocked.get(f"/a/{account}/tags.json")
    assert cut.status_code == 200
    with pytest.raises(requests.JSONDecodeError):
        cut.json()
    assert [r["status"] for r in emu.requests[-3:]] == [401, None, 200]
