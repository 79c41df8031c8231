"""Stripe's settings: read from the environment, and a bad value stops start-up with a message
that says what to fix."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_float, env_int, http_base_url, stripe_secret


def test_unset_means_stripe_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("STRIPE_SECRET_KEY", "STRIPE_API_BASE", "STRIPE_TIMEOUT_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    assert stripe_secret("STRIPE_SECRET_KEY", ("sk_", "rk_"), "sk_") == ""
    assert http_base_url("STRIPE_API_BASE") == ""
    assert env_float("STRIPE_TIMEOUT_SECONDS", 30.0, minimum=0.05, maximum=300) == 30.0


def test_good_values_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_SECRET_KEY", " sk_test_abc ")
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:12111/")
    monkeypatch.setenv("STRIPE_MAX_NETWORK_RETRIES", "3")
    assert stripe_secret("STRIPE_SECRET_KEY", ("sk_", "rk_"), "sk_") == "sk_test_abc"
    assert http_base_url("STRIPE_API_BASE") == "http://127.0.0.1:12111"
    assert env_int("STRIPE_MAX_NETWORK_RETRIES", 2, minimum=0, maximum=10) == 3


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("STRIPE_SECRET_KEY", "pk_test_public", "does not look like a Stripe key"),
        ("STRIPE_WEBHOOK_SECRET", "secret", "should start with whsec_"),
        ("STRIPE_API_BASE", "api.stripe.com", "is not an http(s) address"),
        ("STRIPE_TIMEOUT_SECONDS", "soon", "is not a number"),
        ("STRIPE_TIMEOUT_SECONDS", "0", "must be between 0.05 and 300"),
        ("STRIPE_MAX_NETWORK_RETRIES", "-1", "must be between 0 and 10"),
    ],
)
def test_bad_values_stop_start_up(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    readers = {
        "STRIPE_SECRET_KEY": lambda: stripe_secret(name, ("sk_", "rk_"), "sk_live_ or sk_test_"),
        "STRIPE_WEBHOOK_SECRET": lambda: stripe_secret(name, ("whsec_",), "whsec_"),
        "STRIPE_API_BASE": lambda: http_base_url(name),
        "STRIPE_TIMEOUT_SECONDS": lambda: env_float(name, 30.0, minimum=0.05, maximum=300),
        "STRIPE_MAX_NETWORK_RETRIES": lambda: env_int(name, 2, minimum=0, maximum=10),
    }
    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(").replace(")", r"\)")):
        readers[name]()
