"""dbt's connection parts derived from target-postgres's URL (devtools/warehouse_env.py)."""

from __future__ import annotations

import pytest
from dotenv import dotenv_values

from devtools.warehouse_env import dotenv_line, parts_from_url


def test_tcp_url_gives_host_port_user_password_database():
    assert parts_from_url("postgresql+psycopg://loader:s3cret@db.example.com:6543/warehouse") == {
        "TARGET_POSTGRES_HOST": "db.example.com",
        "TARGET_POSTGRES_PORT": "6543",
        "TARGET_POSTGRES_USER": "loader",
        "TARGET_POSTGRES_PASSWORD": "s3cret",
        "TARGET_POSTGRES_DATABASE": "warehouse",
    }


def test_unix_socket_url_of_the_pgserver_backend_gives_the_socket_folder_as_host():
    url = "postgresql+psycopg://postgres:postgres@/warehouse?host=/tmp/pgserver-abc/cluster&port=5432"
    parts = parts_from_url(url)
    assert parts["TARGET_POSTGRES_HOST"] == "/tmp/pgserver-abc/cluster"
    assert parts["TARGET_POSTGRES_PORT"] == "5432"
    assert parts["TARGET_POSTGRES_DATABASE"] == "warehouse"


def test_percent_encoded_password_is_decoded_and_survives_a_dotenv_file(tmp_path):
    parts = parts_from_url("postgresql+psycopg://u:p%40ss%27w%5Cord@localhost/db")
    assert parts["TARGET_POSTGRES_PASSWORD"] == "p@ss'w\\ord"
    env = tmp_path / "demo.env"
    env.write_text("\n".join(dotenv_line(k, v) for k, v in parts.items()) + "\n")
    assert dotenv_values(env) == parts


def test_a_value_dotenv_would_interpolate_is_refused():
    with pytest.raises(ValueError, match="TARGET_POSTGRES_PASSWORD"):
        dotenv_line("TARGET_POSTGRES_PASSWORD", "a${HOME}")
