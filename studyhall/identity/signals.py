"""A self-signed-up person joins the organizations owning their email domain once they have
proved they own the address."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from allauth.account.signals import email_confirmed
from django.dispatch import receiver

from studyhall.accounts.models import User
from studyhall.identity import signup


@receiver(email_confirmed, dispatch_uid="identity.join_domain_organizations")
def join_on_confirmed_email(sender: Any, email_address: EmailAddress, **kwargs: Any) -> None:
    user = email_address.user
    if isinstance(user, User) and email_address.email.lower() == user.email.lower():
        signup.join_domain_organizations(user=user)
