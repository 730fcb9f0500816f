"""Helpers for the emulator's tests: a fixed clock and an HTTP client with CallRail's auth header."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import requests

NOW = datetime(2026, 11, 26, 15, 30, 12, tzinfo=timezone.utc)
API_KEY = "test-key"


class Client:
    """requests against the emulator with CallRail's auth header; paths are relative to /v3."""

    def __init__(self, base_url: str, api_key: str = API_KEY) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f'Token token="{api_key}"'

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(f"{self.base_url}{path}", params=params, timeout=10)

    def ok(self, path: str, **params: Any) -> dict[str, Any]:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def calls(self, account_id: str, **params: Any) -> list[dict[str, Any]]:
        """Every call the window selects, following pages of 250."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.ok(f"/a/{account_id}/calls.json", per_page=250, page=page, **params)
            found += body["calls"]
            if page >= body["total_pages"]:
                return found
            page += 1
