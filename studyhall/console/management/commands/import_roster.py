"""Import a roster CSV from the command line (for nightly feeds): a dry run unless --apply."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from studyhall.accounts.models import User
from studyhall.console.services.roster import apply_roster, check_roster
from studyhall.core.errors import DomainError
from studyhall.orgs.models import Organization


class Command(BaseCommand):
    help = "Check (and with --apply, import) a roster CSV file for an organization."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", help="The CSV file (see the console's Roster import page).")
        parser.add_argument("--org", required=True, help="The organization's slug.")
        parser.add_argument("--actor", required=True, help="Email of an admin of the org.")
        parser.add_argument("--apply", action="store_true", help="Write the changes.")
        parser.add_argument(
            "--deactivate-missing",
            action="store_true",
            help="A full roster: deactivate people with a school ID who are not in the file.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"There is no organization {options['org']!r}.")
        actor = User.objects.filter(email=options["actor"].lower()).first()
        if actor is None:
            raise CommandError(f"There is no user {options['actor']!r}.")
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        try:
            with transaction.atomic(durable=True):
                roster = check_roster(
                    organization_id=organization.pk,
                    actor=actor,
                    filename=path.name,
                    data=path.read_bytes(),
                    deactivate_missing=options["deactivate_missing"],
                )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        s = roster.summary
        self.stdout.write(
            f"{s['rows']} rows: {s['to_add']} to add, {s['to_update']} to update, "
            f"{s['to_deactivate']} to deactivate, {len(roster.errors)} errors (dry run)"
        )
        for error in roster.errors:
            self.stdout.write(f"  line {error['line']}: {'; '.join(error['errors'])}")
        if roster.errors:
            raise CommandError("The file has errors; nothing was imported.")
        if not options["apply"]:
            return
        try:
            with transaction.atomic(durable=True):
                apply_roster(organization_id=organization.pk, import_id=roster.pk, actor=actor)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS("Applied."))
