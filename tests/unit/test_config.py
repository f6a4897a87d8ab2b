"""Configuration parsing (app.config.load_config): defaults, validation, one clear error."""

from __future__ import annotations

import pytest

from app.config import ConfigError, load_config


def test_defaults_apply_when_a_setting_is_unset(environment):
    environment.delenv("WORKER_STALL_SECONDS", raising=False)
    environment.delenv("MAX_CONCURRENT_JOBS", raising=False)
    config = load_config()
    assert config["WORKER_STALL_SECONDS"] == 120.0
    assert config["MAX_CONCURRENT_JOBS"] == 5


def test_values_are_parsed_to_their_types(environment):
    environment.setenv("JOB_SWEEP_INTERVAL", "0.5")
    environment.setenv("ENABLE_TEST_JOB_TYPES", "true")
    environment.setenv("ADMIN_EMAILS", "Ops@Example.com, b@example.com")
    config = load_config()
    assert config["JOB_SWEEP_INTERVAL"] == 0.5
    assert config["ENABLE_TEST_JOB_TYPES"] is True
    assert config["ADMIN_EMAILS"] == ["ops@example.com", "b@example.com"]


def test_the_database_url_names_the_installed_driver(environment):
    environment.setenv("DATABASE_URL", "postgresql://u@db:5432/app")
    assert load_config()["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg2://u@db:5432/app"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MAX_CONCURRENT_JOBS", "0", "MAX_CONCURRENT_JOBS must be >= 1"),
        ("JOB_SWEEP_INTERVAL", "soon", "JOB_SWEEP_INTERVAL must be a number"),
        ("EMAIL_DIGEST_SECONDS", "-1", "EMAIL_DIGEST_SECONDS must be >= 0"),
        ("SMTP_URL", "mail.example.com", "SMTP_URL must look like"),
    ],
)
def test_a_bad_value_names_the_setting(environment, name, value, message):
    environment.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        load_config()


def test_production_requires_its_secrets(environment):
    environment.setenv("APP_ENV", "production")
    environment.delenv("JWT_SECRET_KEY")
    with pytest.raises(ConfigError, match="JWT_SECRET_KEY must be set in production"):
        load_config()


def test_overrides_win_over_the_environment(environment):
    environment.setenv("JOB_RETENTION_DAYS", "30")
    assert load_config({"JOB_RETENTION_DAYS": 7})["JOB_RETENTION_DAYS"] == 7


def test_the_database_pool_is_five_plus_ten_unless_configured(environment):
    environment.delenv("DATABASE_POOL_SIZE", raising=False)
    environment.delenv("DATABASE_MAX_OVERFLOW", raising=False)
    assert load_config()["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_size": 5, "max_overflow": 10}
    environment.setenv("DATABASE_POOL_SIZE", "2")
    environment.setenv("DATABASE_MAX_OVERFLOW", "0")
    assert load_config()["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_size": 2, "max_overflow": 0}
    environment.setenv("DATABASE_POOL_SIZE", "0")
    with pytest.raises(ConfigError, match="DATABASE_POOL_SIZE"):
        load_config()


def test_prepared_statements_are_on_unless_turned_off(environment):
    environment.delenv("DATABASE_PREPARED_STATEMENTS", raising=False)
    assert load_config()["DATABASE_PREPARED_STATEMENTS"] is True
    environment.setenv("DATABASE_PREPARED_STATEMENTS", "false")
    assert load_config()["DATABASE_PREPARED_STATEMENTS"] is False
