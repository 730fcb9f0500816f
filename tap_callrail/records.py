"""What happens to each record of a stream: its schema's types, secrets masked, checks and counts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from tap_callrail.masking import MASK, mask_secrets
from tap_callrail.normalize import RecordNormalizer
from tap_callrail.quality import UNCONVERTIBLE_VALUE, QualityChecker
from tap_callrail.report import SyncStats


class RecordPipeline:
    """One stream's record handling, in two steps.

    `preparer` gives the function that makes a raw record what the stream emits (types, no
    undeclared property, its company), run before the record is keyed and deduplicated;
    `finish` checks, counts and masks it on its way out (the stream's `post_process`).
    """

    def __init__(
        self,
        stream: str,
        schema: dict[str, Any],
        *,
        quality: QualityChecker,
        stats: SyncStats,
        logger: logging.Logger | logging.LoggerAdapter,
        masked_properties: tuple[str, ...] = (),
        masked_objects: tuple[str, ...] = (),
    ) -> None:
        self._stream = stream
        self._normalize = RecordNormalizer(schema)
        self._quality = quality
        self._stats = stats
        self._logger = logger
        self._masked_properties = masked_properties
        self._masked_objects = masked_objects
        self._unmapped_warned: set[tuple[str, ...]] = set()

    def preparer(self, account_id: str | None, company_id: str | None = None) -> Callable[[dict[str, Any]], None]:
        """The preparation of the raw records of one series (`company_id`: the series' company)."""
        normalize = self._normalize

        def prepare(record: dict[str, Any]) -> None:
            if company_id and record.get("company_id") is None:
                record["company_id"] = company_id
            normalize(record)
            if normalize.nulled:
                self._report_nulls(record, account_id)
            if normalize.unmapped:
                self._warn_unmapped()

        return prepare

    def finish(self, record: dict[str, Any], account_id: str | None) -> dict[str, Any]:
        """Check and count the record, then replace the secrets CallRail returns in data, in place."""
        self._quality.check(self._stream, record, account_id)
        self._stats.record(self._stream, account_id)
        for name in self._masked_properties:
            if record.get(name) not in (None, ""):
                record[name] = MASK
        for name in self._masked_objects:
            if record.get(name) is not None:
                record[name] = mask_secrets(record[name])
        return record

    def _report_nulls(self, record: dict[str, Any], account_id: str | None) -> None:
        """Count the values just turned into null because they do not fit their type."""
        for name in self._normalize.nulled:
            self._quality.flag(self._stream, account_id, UNCONVERTIBLE_VALUE, name, record.get("id"))
        self._normalize.nulled.clear()

    def _warn_unmapped(self) -> None:
        """Warn once of properties CallRail sent that the schema lacks (they are left out)."""
        names = tuple(sorted(self._normalize.unmapped))
        self._normalize.unmapped.clear()
        if names not in self._unmapped_warned:
            self._unmapped_warned.add(names)
            self._logger.warning(
                "Properties %s were present in the '%s' stream but not found in catalog schema. Ignoring.",
                names,
                self._stream,
            )
