"""Create an organization and name its first admin (who then runs it from the console)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.text import slugify

from studyhall.accounts.models import User, validate_time_zone
from studyhall.core import audit
from studyhall.core.money import CURRENCY_CHOICES
from studyhall.orgs.models import Member, Membership, MemberStatus, Organization, Role
from studyhall.orgs.services.people import clean_email
from studyhall.orgs.services.programs import open_default_program


class Command(BaseCommand):
    help = "Create an organization with its first org admin."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("name", help='The organization\'s name, e.g. "Riverside College".')
        parser.add_argument("--admin-email", required=True, help="Its first org admin.")
        parser.add_argument("--admin-name", default="", help="The admin's name.")
        parser.add_argument("--slug", default="", help="Short name in URLs (from the name).")
        parser.add_argument("--time-zone", default="America/New_York")
        parser.add_argument("--currency", default="USD")

    def handle(self, *args: Any, **options: Any) -> None:
        name = " ".join(options["name"].split())
        slug = options["slug"] or slugify(name)
        if not name or not slug:
            raise CommandError("Give the organization a name.")
        if Organization.objects.filter(slug=slug).exists():
            raise CommandError(f"An organization with the slug {slug!r} already exists.")
        try:
            email = clean_email(options["admin_email"])
            validate_time_zone(options["time_zone"])
        except Exception as exc:  # a domain or validation error: say it plainly
            raise CommandError(str(getattr(exc, "message", exc))) from exc
        if options["currency"] not in dict(CURRENCY_CHOICES):
            raise CommandError(f"Unknown currency {options['currency']!r}.")
        with transaction.atomic(durable=True):
            organization = Organization.objects.create(
                name=name,
                slug=slug,
                time_zone=options["time_zone"],
                currency=options["currency"],
            )
            open_default_program(organization)
            admin = User.objects.filter(email=email).first()
            created = admin is None
            if admin is None:
                admin = User.objects.create_user(
                    email=email, password=None, name=options["admin_name"]
                )
            Member.objects.create(
                organization=organization,
                user=admin,
                status=MemberStatus.INVITED if created else MemberStatus.ACTIVE,
            )
            Membership.objects.create(organization=organization, user=admin, role=Role.ADMIN)
            audit.record(
                actor=None,
                action="organization.created",
                organization_id=organization.pk,
                user_id=admin.pk,
                admin_email=email,
            )
        self.stdout.write(self.style.SUCCESS(f"Created {name} ({slug}), admin {email}."))
        if created:
            self.stdout.write(
                f"{email} has no password yet: they choose one from “Forgot your password?” "
                "on the sign-in page (/accounts/password/reset/), then land on the console."
            )
