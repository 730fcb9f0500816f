"""The dbt sources file is what `python -m devtools.dbt_sources` makes of `tap-callrail --discover`."""

from __future__ import annotations

import yaml

from devtools.dbt_sources import SOURCES_FILE, discover, render


def test_dbt_sources_file_is_regenerated_from_the_tap_catalog_unchanged():
    assert SOURCES_FILE.read_text() == render(discover()), (
        "transform/models/sources.yml is stale: run python -m devtools.dbt_sources"
    )


def test_dbt_sources_describe_every_stream_column_with_the_tap_description():
    catalog = discover()
    tables = {t["name"]: t for t in yaml.safe_load(SOURCES_FILE.read_text())["sources"][0]["tables"]}
    assert set(tables) == {s["tap_stream_id"] for s in catalog["streams"]}
    for stream in catalog["streams"]:
        columns = {c["name"]: c for c in tables[stream["tap_stream_id"]]["columns"]}
        for name, prop in stream["schema"]["properties"].items():
            assert columns[name]["description"] == prop["description"]
        (root,) = [m["metadata"] for m in stream["metadata"] if m["breadcrumb"] == []]
        for key in stream["key_properties"]:
            if root.get("selected-by-default", True):
                assert "not_null" in columns[key]["data_tests"]
            else:  # a fan-out's table exists only once it is selected: a test on it would fail dbt build
                assert "data_tests" not in columns[key]
