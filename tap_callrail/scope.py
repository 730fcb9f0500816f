"""Which accounts and companies a run reads, resolved once per run.

`account_ids` may name masked (`ACC…`) or numeric ids; both are normalised to the masked form
so records and state partitions always use one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from tap_callrail.api import PAGE_SIZE, CallRailClient, ForbiddenError, encode_query
from tap_callrail.errors import CallRailConfigError, CallRailNotFoundError
from tap_callrail.series import list_pages


class Scope:
    """Accounts, companies and partitions of one run; each list is requested once.

    `account_fields` gives the optional fields the accounts stream selects: configured accounts
    are fetched with them, so that stream emits these very objects.
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        client: CallRailClient,
        logger: logging.Logger,
        account_fields: Callable[[], Sequence[str]] = tuple,
    ) -> None:
        self._config = config
        self._client = client
        self._logger = logger
        self.account_fields = account_fields
        self._accounts: list[dict[str, Any]] | None = None
        self._companies: dict[str, list[str]] = {}
        self._time_zones: dict[str, dict[str, str | None]] = {}
        self._configured_companies: list[str] | None = None
        self._company_filters: dict[str, list[str]] | None = None

    @property
    def narrowed(self) -> bool:
        """True when the run reads only part of what the API key can see."""
        return bool(self._config.get("account_ids") or self._config.get("company_ids"))

    def account_records(self) -> list[dict[str, Any]]:
        """The accounts this run reads, as CallRail renders them (default fields)."""
        if self._accounts is None:
            configured = self._config.get("account_ids") or []
            if configured:
                self._accounts = self._fetch_configured_accounts(configured)
            else:
                self._accounts = list(self._list("/a.json", "accounts", "accounts", None))
        return self._accounts

    def accounts(self) -> list[str]:
        return [str(account["id"]) for account in self.account_records()]

    def adopt_accounts(self, records: list[dict[str, Any]]) -> None:
        """The account list as the accounts stream has just read it in full, if not known yet."""
        if self._accounts is None:
            self._accounts = records

    def adopt_companies(
        self, account_id: str, company_ids: list[str], time_zones: Mapping[str, str | None] | None = None
    ) -> None:
        """An account's company ids (and time zones) as the companies stream has just read them in full."""
        self._companies.setdefault(account_id, company_ids)
        if time_zones is not None:
            self._time_zones.setdefault(account_id, dict(time_zones))

    def _fetch_configured_accounts(self, configured: list[str]) -> list[dict[str, Any]]:
        accounts: dict[str, dict[str, Any]] = {}
        fields = self.account_fields()
        query = encode_query({"fields": ",".join(fields)} if fields else {})
        for account_id in configured:
            path = f"/a/{quote(account_id, safe='')}.json"
            request = self._client.request(path, query, stream="accounts", account_id=account_id, label="accounts")
            try:
                account = self._client.get(request, item_key=None)
            except (CallRailNotFoundError, ForbiddenError):
                raise CallRailConfigError(
                    f"account_ids: CallRail does not know account '{account_id}' for this API "
                    "key (HTTP 404/403). Use the ACC… id or the numeric id from the CallRail URL "
                    "of an account the key's user can see, or leave account_ids empty."
                ) from None
            accounts.setdefault(str(account["id"]), account)
        return list(accounts.values())

    def companies(self, account_id: str) -> list[str]:
        """Every company id of an account (all statuses)."""
        if account_id not in self._companies:
            self._read_companies(account_id)
        return self._companies[account_id]

    def time_zone(self, account_id: str, company_id: str) -> str | None:
        """A company's time zone as the companies list gives it (None: it gives none)."""
        if account_id not in self._time_zones:
            self._read_companies(account_id)
        return self._time_zones[account_id].get(company_id)

    def vanished(self, account_id: str, company_id: str) -> bool:
        """True when the account's company list, read again now, no longer holds `company_id`."""
        return company_id not in self._read_companies(account_id)

    def _read_companies(self, account_id: str) -> list[str]:
        """List the account's companies now; their ids and time zones replace what was known."""
        path = f"/a/{quote(account_id, safe='')}/companies.json"
        zones = {
            str(c["id"]): c.get("time_zone") or None
            for c in self._list(path, "companies", f"companies of {account_id}", account_id)
        }
        self._companies[account_id] = list(zones)
        self._time_zones[account_id] = zones
        return self._companies[account_id]

    def company_filter(self, account_id: str) -> list[str] | None:
        """The configured companies within this account, or None when not restricted."""
        configured = self._config.get("company_ids") or []
        if not configured:
            return None
        if self._company_filters is None:
            filters = {
                account: [c for c in configured if c in set(self.companies(account))] for account in self.accounts()
            }
            found = {c for companies in filters.values() for c in companies}
            missing = [c for c in configured if c not in found]
            if missing:
                raise CallRailConfigError(
                    f"company_ids: company {', '.join(repr(c) for c in missing)} not found in "
                    f"account(s) {', '.join(self.accounts())}. Check company_ids "
                    "(TAP_CALLRAIL_COMPANY_IDS) and account_ids."
                )
            self._company_filters = filters
        return self._company_filters.get(account_id, [])

    def _list(self, path: str, item_key: str, label: str, account_id: str | None) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, outside any stream's own series."""
        request = self._client.request(path, "", stream=item_key, account_id=account_id, label=label)
        for body in list_pages(self._client, request, {"per_page": PAGE_SIZE}, item_key, self._logger):
            yield from body[item_key]

    def partitions(self, *, incremental: bool, company_filter: bool) -> list[dict[str, Any]]:
        """One partition per account, or per (account, company) for incremental streams
        when `company_ids` is set, so each company keeps its own bookmark."""
        partitions: list[dict[str, Any]] = []
        for account_id in self.accounts():
            companies = self.company_filter(account_id)
            if incremental and company_filter and companies is not None:
                partitions += [{"account_id": account_id, "company_id": c} for c in companies]
            else:
                partitions.append({"account_id": account_id})
        return partitions
