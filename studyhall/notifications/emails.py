"""Sending email: plain text and HTML from one template pair, one message per recipient so
nobody sees the others' addresses."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from studyhall.accounts.models import User


@dataclass(frozen=True)
class Address:
    """Someone to write to who has no account (a visitor who used the contact form): the
    templates read them as they read a user."""

    name: str
    email: str
    time_zone: str = "UTC"

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name.split()[0] if self.name.split() else self.email


def send_templated(
    *, to: Iterable[User | Address], subject: str, template: str, context: dict[str, Any]
) -> int:
    """Render `<template>.txt` and `<template>.html` for each recipient and send them."""
    sent = 0
    for user in to:
        personal = {**context, "recipient": user}
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string(f"{template}.txt", personal),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[user.email],
        )
        message.attach_alternative(render_to_string(f"{template}.html", personal), "text/html")
        message.send()
        sent += 1
    return sent
