"""Sending email: plain text and HTML from one template pair, one message per recipient so
nobody sees the others' addresses."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from studyhall.accounts.models import User


def send_templated(
    *, to: Iterable[User], subject: str, template: str, context: dict[str, Any]
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
