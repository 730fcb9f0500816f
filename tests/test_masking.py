"""Secrets CallRail returns in data (integration config, signing keys, validation codes) never leave the tap."""

from __future__ import annotations

import json

import pytest

from callrail_emulator import Emulator
from tap_callrail.masking import MASK, mask_secrets
from tests.callrail import base_config, populate, run_sync


@pytest.mark.parametrize(
    "key",
    [
        "api_key",
        "token",
        "access_token",
        "secret",
        "client_secret",
        "password",
        "signing_key",
        "auth",
        "apiKey",
        "authToken",
        "key",
        "private-key",
    ],
)
def test_values_of_secret_named_config_keys_are_masked_and_the_key_kept(key: str) -> None:
    assert mask_secrets({key: "s3cr3t-value", "name": "CRM"}) == {key: MASK, "name": "CRM"}


@pytest.mark.parametrize("key", ["keywords", "author", "monkey", "tokenizer_mode", "authority_level"])
def test_keys_that_merely_contain_a_secret_word_are_not_masked(key: str) -> None:
    assert mask_secrets({key: "plumbing"}) == {key: "plumbing"}


@pytest.mark.parametrize(
    "url",
    [
        "https://user:pass@crm.example.com/hook",
        "https://crm.example.com/hook?token=abc123",
        "https://crm.example.com/hook?id=7&api_key=abc123",
        "https://hooks.slack.com/services/T000/B000/XXXXXXXX",
    ],
)
def test_urls_carrying_credentials_are_masked_wherever_they_are(url: str) -> None:
    config = {"webhook_url": url, "post_call_webhook": [url], "nested": {"target": url}}

    assert mask_secrets(config) == {"webhook_url": MASK, "post_call_webhook": [MASK], "nested": {"target": MASK}}


def test_plain_urls_and_other_values_are_left_alone() -> None:
    config = {"url": "https://crm.example.com/hook?id=7", "enabled": True, "events": ["post_call"], "token": None}

    assert mask_secrets(config) == config


def test_integrations_and_caller_ids_are_emitted_with_their_secrets_masked(fake: Emulator) -> None:
    populate(fake, accounts=1)
    first = fake.records("integrations", "ACC01")[0]["id"]
    config = {
        "api_key": "thirdparty-secret",
        "keywords": "plumbing",
        "url": "https://user:pw@crm.example.com/in",
        "channel_webhook": "https://hooks.slack.com/services/T000/B000/XXXXXXXX",
        "options": {"password": "hunter2", "mode": "json"},
    }
    fake.put("integrations", "ACC01", [{"id": first, "config": config}])

    result = run_sync(base_config(), streams={"integrations", "outbound_caller_ids"})

    integration = next(r for r in result.records("integrations") if r["config"].get("url"))
    assert integration["config"] == {
        "api_key": MASK,
        "keywords": "plumbing",
        "url": MASK,
        "channel_webhook": MASK,
        "options": {"password": MASK, "mode": "json"},
    }
    assert all(r["signing_key"] == MASK for r in result.records("integrations"))
    assert all(r["validation_code"] == MASK for r in result.records("outbound_caller_ids"))
    output = json.dumps(result.messages)
    for secret in ("thirdparty-secret", "user:pw@", "hunter2", "XXXXXXXX", "whsec-123", "4321"):
        assert secret not in output


def test_authorization_header_in_integration_config_is_masked() -> None:
    config = {"headers": {"Authorization": "Bearer eyJhbGciOi", "Content-Type": "application/json"}}

    assert mask_secrets(config)["headers"] == {"Authorization": MASK, "Content-Type": "application/json"}
