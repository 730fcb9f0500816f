"""The warehouse's columns outlive releases: no property of the last release changes its type.

target-postgres creates a column from a property's JSON type (and `date-time` format) when the
table is first loaded and cannot alter it later (`jsonb` to `jsonb[]`, `text` to `jsonb`, …), so a
delta run onto tables made by an earlier release fails if a type moved. `data/release_property_types.json`
holds the type of every property, nested ones and list items included, of the catalog of release
commit c8846d1 (`git show c8846d1:tap_callrail/schemas.py`); it is never regenerated, only extended
by a release that adds properties.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.callrail import base_config, discovered_catalog

RELEASE_TYPES = Path(__file__).parent / "data" / "release_property_types.json"


def _column(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema["type"]
    column: dict[str, Any] = {"type": sorted([kind] if isinstance(kind, str) else kind)}
    if "format" in schema:
        column["format"] = schema["format"]
    return column


def _properties(schema: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(`stream.property.nested`, its type) for every property; a list's items as `property[]`."""
    for name, prop in schema.get("properties", {}).items():
        here = f"{path}.{name}"
        yield here, _column(prop)
        yield from _properties(prop, here)
        if "items" in prop:
            yield f"{here}[]", _column(prop["items"])
            yield from _properties(prop["items"], f"{here}[]")


def catalog_types() -> dict[str, dict[str, Any]]:
    catalog = discovered_catalog(base_config())
    types: dict[str, dict[str, Any]] = {}
    for entry in catalog["streams"]:
        types.update(_properties(entry["schema"], entry["tap_stream_id"]))
    return types


def test_every_property_of_the_last_release_keeps_its_type_and_format_in_the_catalog() -> None:
    released = json.loads(RELEASE_TYPES.read_text())
    current = catalog_types()

    assert len(released) > 300  # the snapshot covers the nested properties too
    changed = {path: (was, current.get(path)) for path, was in released.items() if current.get(path) != was}
    assert not changed, f"properties whose column type would change (release, now): {changed}"
