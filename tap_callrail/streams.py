"""One class per CallRail entity; each reads like a row of the endpoint table.

Paths, item keys and filters: https://apidocs.callrail.com/. Schemas: tap_callrail/schemas.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from typing_extensions import override

from tap_callrail.client import CallRailStream, SortedCallRailStream
from tap_callrail.planning import Series

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class AccountsStream(CallRailStream):
    """Accounts the API key can see (`/a.json`), or the configured `account_ids`."""

    name = "accounts"
    path = "/a.json"
    item_key = "accounts"

    @property
    @override
    def partitions(self) -> list[dict] | None:
        return None  # one list for the API key

    @override
    def get_record_pages(self, context: Context | None) -> Iterator[list[dict[str, Any]]]:
        scope = self.services.scope
        prepare = self.records.preparer(None)
        if self.config.get("account_ids"):
            # The scope fetched each configured account with this stream's fields.
            accounts = [dict(account) for account in scope.account_records()]
            for account in accounts:
                prepare(account)
            yield accounts
            return
        reader = self.reader({})
        request = self.services.client.request(self.path, "", stream=self.name, account_id=None, label=self.name)
        params = self.series_params({}, Series("all accounts"))
        read: list[dict] = []
        for records in reader.read(request, params, prepare):
            read.extend(dict(record) for record in records)
            yield records
        if reader.complete:
            scope.adopt_accounts(read)  # the scope needs this list too: one request, not two
        else:
            self.read_complete = False


class CompaniesStream(CallRailStream):
    """Companies of every status (`disabled` ones stay listed with `disabled_at`).

    companies.json takes no company_id filter: all are read, the configured ones kept.
    """

    name = "companies"
    path = "/a/{account_id}/companies.json"
    item_key = "companies"

    @override
    def get_record_pages(self, context: Context | None) -> Iterator[list[dict[str, Any]]]:
        restricted = self.services.scope.company_filter(context["account_id"]) if context else None
        read: list[str] = []
        for records in super().get_record_pages(context):
            read.extend(str(record.get("id")) for record in records)
            yield records if restricted is None else [record for record in records if record.get("id") in restricted]
        if context and self.read_complete:
            # The per-company streams need this list too: one request, not two.
            self.services.scope.adopt_companies(context["account_id"], read)


class UsersStream(CallRailStream):
    """Users; one user can belong to several accounts, hence the compound key."""

    name = "users"
    path = "/a/{account_id}/users.json"
    item_key = "users"
    primary_keys: ClassVar[tuple[str, ...]] = ("account_id", "id")
    company_filter = True


class TagsStream(CallRailStream):
    """Tags of every status, account-level and company-level."""

    name = "tags"
    path = "/a/{account_id}/tags.json"
    item_key = "tags"
    company_filter = True

    @override
    def request_series(self, context: Context) -> list[Series]:
        series = super().request_series(context)
        if self.services.scope.company_filter(context["account_id"]) is not None:
            # Restricted to companies: their tags plus the account-level ones.
            series.append(Series("account-level tags", {"tag_level": "account"}))
        return series


class TrackersStream(CallRailStream):
    """Trackers of every status (source and session)."""

    name = "trackers"
    path = "/a/{account_id}/trackers.json"
    item_key = "trackers"
    company_filter = True


class CallsStream(SortedCallRailStream):
    """Calls, incremental on start_time with a lookback for later edits."""

    name = "calls"
    path = "/a/{account_id}/calls.json"
    item_key = "calls"
    replication_key = "start_time"
    sort_key = "start_time"
    company_filter = True


class FormSubmissionsStream(SortedCallRailStream):
    """Form submissions, incremental on submitted_at with a lookback for later edits."""

    name = "form_submissions"
    path = "/a/{account_id}/form_submissions.json"
    item_key = "form_submissions"
    replication_key = "submitted_at"
    sort_key = "submitted_at"
    company_filter = True


class TextMessagesStream(CallRailStream):
    """Text conversations, incremental on last_message_at, newest first.

    CallRail does not document which timestamp its date filter applies to for conversations,
    so every run requests the whole window from start_date and stops reading at the first
    page older than the bookmark minus the lookback (series.NewestFirst).
    """

    name = "text_messages"
    path = "/a/{account_id}/text-messages.json"
    item_key = "conversations"
    replication_key = "last_message_at"
    company_filter = True
    date_filtered = True
    newest_first = True


class LeadsStream(CallRailStream):
    """Leads (people); no date filter exists, so read in full, once per full_table_refresh_hours."""

    name = "leads"
    path = "/a/{account_id}/leads.json"
    item_key = "leads"
    company_filter = True
    refresh_on_cadence = True


class IntegrationsStream(CallRailStream):
    """Integrations, one request per company (once per full_table_refresh_hours); secrets masked."""

    name = "integrations"
    path = "/a/{account_id}/integrations.json"
    item_key = "integrations"
    per_company = True
    refresh_on_cadence = True
    masked_properties = ("signing_key",)
    masked_objects = ("config",)


class NotificationsStream(CallRailStream):
    """Notification settings; account-wide (CallRail ignores company_id here)."""

    name = "notifications"
    path = "/a/{account_id}/notifications.json"
    item_key = "notifications"


class OutboundCallerIdsStream(CallRailStream):
    """Outbound caller ids, one request per company (once per full_table_refresh_hours); codes masked."""

    name = "outbound_caller_ids"
    path = "/a/{account_id}/caller_ids.json"
    item_key = "caller_ids"
    per_company = True
    refresh_on_cadence = True
    masked_properties = ("validation_code",)


STREAM_TYPES: tuple[type[CallRailStream], ...] = (
    AccountsStream,
    CompaniesStream,
    UsersStream,
    TagsStream,
    TrackersStream,
    CallsStream,
    FormSubmissionsStream,
    TextMessagesStream,
    LeadsStream,
    IntegrationsStream,
    NotificationsStream,
    OutboundCallerIdsStream,
)
