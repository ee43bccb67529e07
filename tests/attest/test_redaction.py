"""Redaction: stable keyed pseudonyms, longest match first, digests untouched, config errors."""

from __future__ import annotations

import pytest

from assess.errors import ConfigError
from assess.redact import RedactionConfig, Redactor


def test_same_value_same_pseudonym_everywhere_and_key_dependent():
    config = RedactionConfig(key=b"k", aws_account_ids=True, hostnames=("db01.corp.example",))
    redactor = Redactor(config)
    masked = redactor.json({
        "a": "arn:aws:kms:eu-west-1:123456789012:key/1",
        "b": ["account 123456789012 on db01.corp.example"],
        "db01.corp.example": 1,
        "sha256": "123456789012" * 5 + "abcd",
    })
    account = redactor.pseudonym("account", "123456789012")
    host = redactor.pseudonym("host", "db01.corp.example")
    assert masked["a"] == f"arn:aws:kms:eu-west-1:{account}:key/1"
    assert masked["b"] == [f"account {account} on {host}"]
    assert host in masked  # object keys are masked too
    assert masked["sha256"] == "123456789012" * 5 + "abcd"  # digests are never rewritten
    assert redactor.report() == {"enabled": True, "keyed": True, "masked": {"account": 2, "host": 2}}
    rekeyed = Redactor(RedactionConfig(key=b"other", aws_account_ids=True))
    assert rekeyed.pseudonym("account", "123456789012") != account


def test_account_ids_inside_longer_numbers_are_left_alone():
    redactor = Redactor(RedactionConfig(aws_account_ids=True))
    assert redactor.text("id 1234567890123 and 12345678901") == "id 1234567890123 and 12345678901"


def test_path_prefix_keeps_the_rest_and_longest_literal_wins():
    config = RedactionConfig(key=b"k", paths=("/home/alice", "/home/alice/secret-project"),
                             hostnames=("alice",))
    redactor = Redactor(config)
    out = redactor.text("/home/alice/secret-project/certs/x.pem")
    assert out == f"{redactor.pseudonym('path', '/home/alice/secret-project')}/certs/x.pem"


def test_redaction_table_errors_name_the_key():
    with pytest.raises(ConfigError, match="key_env"):
        RedactionConfig.from_toml_table({"key_env": "NOT_SET_ANYWHERE"}, environ={})
    with pytest.raises(ConfigError, match="patterns"):
        RedactionConfig.from_toml_table({"patterns": ["(unclosed"]})
    with pytest.raises(ConfigError, match="unknown key"):
        RedactionConfig.from_toml_table({"hostname": ["x"]})
    config = RedactionConfig.from_toml_table({"key_env": "K", "hostnames": ["h"]}, environ={"K": "secret"})
    assert config.key == b"secret" and config.enabled
