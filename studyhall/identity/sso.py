"""Single sign-on per organization: which provider signs an address in, who it links to, and
how an organization sets it up.

The protocols are allauth's (`allauth.socialaccount.providers.saml` and `openid_connect`):
each organization's identity provider is one SocialApp in the database. This module decides
what the protocol cannot: an address goes to the provider of the organization owning its
domain (or of the organization the person belongs to); a first sign-in links to the person
the roster already holds, by school ID, then by email, or adds a new student when the
organization's sign-up policy lets its domains in; and an organization may turn passwords
off for everyone but named break-glass admins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialApp

from studyhall.accounts.models import User
from studyhall.core import audit
from studyhall.core.errors import Conflict, Forbidden, InvalidInput
from studyhall.identity.models import Protocol, SingleSignOn
from studyhall.identity.signup import domain_of
from studyhall.orgs.models import Member, Membership, MemberStatus, Organization, Role, SignupPolicy
from studyhall.orgs.services.access import admin_organization

# Attribute names a SAML provider commonly releases (InCommon / REFEDS), the defaults offered.
SAML_EPPN = "urn:oid:1.3.6.1.4.1.5923.1.1.1.6"
SAML_PAIRWISE_ID = "urn:oasis:names:tc:SAML:attribute:pairwise-id"
SAML_MAIL = "urn:oid:0.9.2342.19200300.100.1.3"
SAML_DISPLAY_NAME = "urn:oid:2.16.840.1.113730.3.1.241"
# Attributes that hold addresses, never to be the stable identifier alone.
EMAIL_ATTRIBUTES = frozenset({SAML_MAIL, "email", "mail", "upn"})
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def provider_id_of(organization: Organization, protocol: str) -> str:
    return f"{protocol}-{organization.slug}"


@dataclass(frozen=True)
class SamlIdp:
    """The identity provider as its metadata describes it."""

    entity_id: str
    sso_url: str
    x509cert: str
    metadata_url: str = ""


@dataclass(frozen=True)
class CampusIdentity:
    """What the provider said about the person, read through the organization's mapping."""

    uid: str
    email: str
    name: str
    school_id: str


def saml_idp_from_metadata(*, xml: str = "", url: str = "") -> SamlIdp:
    """The provider as its metadata (the XML, or fetched from its URL) describes it."""
    # Imported here: python3-saml and lxml are for the admin saving a provider, not for every
    # web worker.
    from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

    try:
        if url:
            parsed = OneLogin_Saml2_IdPMetadataParser.parse_remote(url, timeout=10)
        else:
            parsed = OneLogin_Saml2_IdPMetadataParser.parse(xml)
        idp = parsed["idp"]
        cert = idp.get("x509cert") or (idp.get("x509certMulti", {}).get("signing") or [""])[0]
        found = SamlIdp(
            entity_id=idp["entityId"],
            sso_url=idp["singleSignOnService"]["url"],
            x509cert=cert,
            metadata_url=url,
        )
    # Unreadable metadata, whatever the parser or the network says, is the admin's input.
    except Exception as exc:
        raise InvalidInput(
            "Studyhall could not read the provider's metadata"
            + (f" at {url}" if url else "")
            + ": it needs the provider's entity ID, its sign-in address and its certificate.",
            code="sso_metadata_unreadable",
            field="metadata_url" if url else "metadata_xml",
        ) from exc
    if not found.x509cert:
        raise InvalidInput(
            "The metadata holds no signing certificate.",
            code="sso_metadata_unreadable",
            field="metadata_url" if url else "metadata_xml",
        )
    return found


def saml_idp_of(existing: SingleSignOn) -> SamlIdp | None:
    """The SAML provider saved before, to keep when the admin gives no new metadata."""
    idp = existing.app.settings.get("idp") if existing.protocol == Protocol.SAML else None
    if not idp:
        return None
    return SamlIdp(
        entity_id=idp.get("entity_id", ""),
        sso_url=idp.get("sso_url", ""),
        x509cert=idp.get("x509cert", ""),
        metadata_url=idp.get("metadata_url", ""),
    )


def form_initial(existing: SingleSignOn | None) -> dict[str, Any]:
    """The console form's values for the saved setup, or the usual attributes for a new one."""
    if existing is None:
        return {
            "protocol": Protocol.SAML,
            "uid_attribute": SAML_EPPN,
            "email_attribute": SAML_MAIL,
            "name_attribute": SAML_DISPLAY_NAME,
        }
    settings = existing.app.settings
    idp = settings.get("idp", {}) if existing.protocol == Protocol.SAML else {}
    return {
        "protocol": existing.protocol,
        "email_domains": " ".join(existing.email_domains),
        "metadata_url": idp.get("metadata_url", ""),
        "oidc_issuer": settings.get("server_url", "") if existing.protocol == Protocol.OIDC else "",
        "oidc_client_id": existing.app.client_id if existing.protocol == Protocol.OIDC else "",
        "uid_attribute": existing.uid_attribute,
        "email_attribute": existing.email_attribute,
        "name_attribute": existing.name_attribute,
        "school_id_attribute": existing.school_id_attribute,
        "required": existing.required,
        "break_glass_emails": "\n".join(
            existing.break_glass_admins.order_by("email").values_list("email", flat=True)
        ),
    }


# -- reading --------------------------------------------------------------------------------


def sso_of_organization(organization_id: int) -> SingleSignOn | None:
    return (
        SingleSignOn.objects.select_related("app", "organization")
        .filter(organization_id=organization_id)
        .first()
    )


def sso_of_app(app: SocialApp | None) -> SingleSignOn | None:
    if app is None or app.pk is None:
        return None
    return SingleSignOn.objects.select_related("app", "organization").filter(app=app).first()


def sso_for_domain(domain: str) -> SingleSignOn | None:
    if not domain:
        return None
    # A handful of rows; JSON containment is not portable across SQLite and PostgreSQL.
    for sso in SingleSignOn.objects.select_related("app", "organization").order_by("pk"):
        if domain in sso.email_domains:
            return sso
    return None


def _is_break_glass(sso: SingleSignOn, user: User | None) -> bool:
    return user is not None and sso.break_glass_admins.filter(pk=user.pk).exists()


def _sso_of_member(user: User) -> SingleSignOn | None:
    return (
        SingleSignOn.objects.select_related("app", "organization")
        .filter(
            organization__members__user=user,
            organization__members__status__in=[MemberStatus.ACTIVE, MemberStatus.INVITED],
        )
        .order_by("-required", "pk")
        .first()
    )


def route_for(email: str) -> SingleSignOn | None:
    """The campus sign-in this address goes to, or None for a password. The organization
    owning the address's domain decides first, then an organization the person belongs to.
    Break-glass admins keep their password."""
    user = User.objects.filter(email__iexact=email.strip()).first() if email else None
    sso = sso_for_domain(domain_of(email))
    if sso is None and user is not None:
        sso = _sso_of_member(user)
    if sso is None or _is_break_glass(sso, user):
        return None
    return sso


def password_refused(user: User) -> SingleSignOn | None:
    """The organization whose required campus sign-in rules out this person's password: one
    they belong to, or the one owning their address's domain."""
    domain = domain_of(user.email)
    member_of = set(
        Member.objects.filter(
            user=user, status__in=[MemberStatus.ACTIVE, MemberStatus.INVITED]
        ).values_list("organization_id", flat=True)
    )
    for sso in SingleSignOn.objects.select_related("organization").filter(required=True):
        applies = sso.organization_id in member_of or domain in sso.email_domains
        if applies and not _is_break_glass(sso, user):
            return sso
    return None


def password_refused_message(sso: SingleSignOn) -> str:
    return (
        f"{sso.organization.name} signs its people in through its campus sign-in, so "
        "passwords do not work here. Leave the password empty and choose Sign in to go there."
    )


def identity_from(sso: SingleSignOn, account: SocialAccount) -> CampusIdentity:
    """Read the provider's answer through the organization's attribute mapping."""
    data: dict[str, Any] = account.extra_data or {}
    if sso.protocol == Protocol.OIDC:
        data = data.get("userinfo") or data.get("id_token") or data

    def value(name: str) -> str:
        if not name:
            return ""
        raw = data.get(name)
        if isinstance(raw, list):
            raw = raw[0] if raw else None
        return str(raw).strip() if raw is not None else ""

    uid = value(sso.uid_attribute)
    if not uid:
        raise Forbidden(
            f"Your campus sign-in did not send your identifier ({sso.uid_attribute}), so "
            f"Studyhall cannot tell who you are. Ask {sso.organization.name}'s IT to release "
            "it to Studyhall.",
            code="sso_uid_missing",
        )
    email = value(sso.email_attribute).lower()
    if not email or "@" not in email:
        raise Forbidden(
            "Your campus sign-in did not send your email address. Ask "
            f"{sso.organization.name}'s IT to release it to Studyhall.",
            code="sso_email_missing",
        )
    return CampusIdentity(
        uid=uid,
        email=email,
        name=value(sso.name_attribute),
        school_id=value(sso.school_id_attribute),
    )


def check_domain(sso: SingleSignOn, email: str) -> None:
    if domain_of(email) not in sso.email_domains:
        raise Forbidden(
            f"{email} is not an address of {sso.organization.name}, so its campus sign-in "
            "cannot sign it in to Studyhall. Sign in with the account your program gave you, "
            "or ask your program's admin.",
            code="sso_outside_domains",
        )


# -- writing --------------------------------------------------------------------------------


def _refuse_deactivated(member: Member, organization: Organization) -> None:
    if member.status == MemberStatus.DEACTIVATED:
        raise Forbidden(
            f"Your account at {organization.name} is deactivated. Ask your program's admin to "
            "reactivate it.",
            code="sso_member_deactivated",
        )


def check_member(*, sso: SingleSignOn, user: User) -> None:
    """A returning person: still in the organization's domains and not deactivated."""
    check_domain(sso, user.email)
    member = Member.objects.filter(organization=sso.organization, user=user).first()
    if member is not None:
        _refuse_deactivated(member, sso.organization)


def link_or_provision(*, sso: SingleSignOn, identity: CampusIdentity) -> tuple[User, str]:
    """The person a first campus sign-in belongs to: the roster's, by school ID then email, or
    a new student when the sign-up policy lets the organization's domains in. Returns the
    person and how they were found ("school_id", "email" or "provisioned"). Runs inside the
    caller's transaction; the caller connects the provider's identity to the person."""
    organization = sso.organization
    check_domain(sso, identity.email)
    member = None
    how = ""
    if identity.school_id:
        member = (
            Member.objects.select_for_update()
            .select_related("user")
            .filter(organization=organization, school_id=identity.school_id)
            .first()
        )
        how = "school_id" if member is not None else ""
    user = member.user if member is not None else None
    if user is None:
        user = User.objects.select_for_update().filter(email__iexact=identity.email).first()
        if user is not None:
            how = "email"
            member = (
                Member.objects.select_for_update()
                .filter(organization=organization, user=user)
                .first()
            )
            if (
                member is not None
                and member.school_id
                and identity.school_id
                and member.school_id != identity.school_id
            ):
                raise Conflict(
                    f"{organization.name}'s roster holds another school ID for {identity.email}. "
                    "Ask your program's admin to correct the roster.",
                    code="sso_school_id_mismatch",
                )
    if (
        user is not None
        and SocialAccount.objects.filter(user=user, provider=sso.app.provider_id).exists()
    ):
        raise Conflict(
            "Another campus identity is already linked to this Studyhall account. Ask your "
            "program's admin.",
            code="sso_already_linked",
        )
    if member is not None:
        _refuse_deactivated(member, organization)
        changed = []
        if member.status == MemberStatus.INVITED:
            member.status = MemberStatus.ACTIVE
            changed.append("status")
        if identity.school_id and not member.school_id:
            member.school_id = identity.school_id
            changed.append("school_id")
        if changed:
            member.save(update_fields=changed)
    else:
        if organization.signup_policy != SignupPolicy.DOMAINS:
            raise Forbidden(
                f"{organization.name} has not added you to Studyhall yet. Ask your program's "
                "admin to invite you; then sign in again.",
                code="sso_not_invited",
            )
        if (
            identity.school_id
            and Member.objects.filter(
                organization=organization, school_id=identity.school_id
            ).exists()
        ):
            raise Conflict(
                "Your school ID already belongs to someone else here. Ask your program's admin.",
                code="sso_school_id_taken",
            )
        if user is None:
            user = User.objects.create_user(
                email=identity.email, password=None, name=identity.name or ""
            )
            how = "provisioned"
        member = Member.objects.create(
            organization=organization,
            user=user,
            status=MemberStatus.ACTIVE,
            school_id=identity.school_id,
        )
        Membership.objects.get_or_create(organization=organization, user=user, role=Role.STUDENT)
    assert user is not None  # found through the member, by email, or just created
    if not user.name and identity.name:
        user.name = identity.name
        user.save(update_fields=["name"])
    # The provider vouched for the address.
    address = EmailAddress.objects.filter(user=user, email__iexact=user.email).first()
    if address is None:
        EmailAddress.objects.create(
            user=user,
            email=user.email,
            verified=True,
            primary=not EmailAddress.objects.filter(user=user, primary=True).exists(),
        )
    elif not address.verified:
        EmailAddress.objects.filter(pk=address.pk).update(verified=True)
    audit.record(
        actor=user,
        action="person.single_sign_on_linked",
        organization_id=organization.pk,
        user_id=user.pk,
        found_by=how,
        provider=sso.app.provider_id,
    )
    return user, how


def _clean_domains(domains: list[str]) -> list[str]:
    cleaned = []
    for raw in domains:
        domain = raw.strip().lower().lstrip("@")
        if not domain:
            continue
        if not DOMAIN_RE.match(domain):
            raise InvalidInput(
                f"{raw.strip()} is not an email domain (like college.edu).",
                code="sso_domain_invalid",
                field="email_domains",
            )
        if domain not in cleaned:
            cleaned.append(domain)
    if not cleaned:
        raise InvalidInput(
            "Name at least one email domain the provider signs in.",
            code="sso_domain_missing",
            field="email_domains",
        )
    return cleaned


def configure(
    *,
    actor: User,
    organization_id: int,
    protocol: str,
    email_domains: list[str],
    uid_attribute: str,
    email_attribute: str,
    name_attribute: str,
    school_id_attribute: str,
    required: bool,
    break_glass_emails: list[str],
    saml_idp: SamlIdp | None = None,
    oidc_issuer: str = "",
    oidc_client_id: str = "",
    oidc_secret: str = "",
) -> SingleSignOn:
    """Set up or change the organization's campus sign-in (org admins). Runs inside the
    caller's transaction. An empty OIDC secret keeps the one saved."""
    organization = admin_organization(actor, organization_id, lock=True)
    if protocol not in Protocol.values:
        raise InvalidInput("Choose SAML or OpenID Connect.", code="sso_protocol", field="protocol")
    domains = _clean_domains(email_domains)
    uid_attribute = uid_attribute.strip()
    email_attribute = email_attribute.strip()
    if not uid_attribute:
        raise InvalidInput(
            "Name the attribute holding the person's stable identifier.",
            code="sso_uid_attribute_missing",
            field="uid_attribute",
        )
    if uid_attribute.lower() in EMAIL_ATTRIBUTES or uid_attribute == email_attribute:
        raise InvalidInput(
            "An email address changes and can be given to someone else: choose a stable "
            "identifier (eduPersonPrincipalName, pairwise-id, or the OIDC sub).",
            code="sso_uid_is_email",
            field="uid_attribute",
        )
    if not email_attribute:
        raise InvalidInput(
            "Name the attribute holding the email address.",
            code="sso_email_attribute_missing",
            field="email_attribute",
        )
    existing = sso_of_organization(organization.pk)
    for other in SingleSignOn.objects.exclude(organization=organization):
        taken = set(other.email_domains) & set(domains)
        if taken:
            raise Conflict(
                f"{sorted(taken)[0]} already signs in through another organization.",
                code="sso_domain_taken",
                field="email_domains",
            )
    break_glass = []
    for email in (e.strip() for e in break_glass_emails):
        if not email:
            continue
        admin = User.objects.filter(
            email__iexact=email,
            memberships__organization=organization,
            memberships__role=Role.ADMIN,
            memberships__is_active=True,
        ).first()
        if admin is None:
            raise InvalidInput(
                f"{email} is not an admin of {organization.name}; break-glass accounts must be.",
                code="sso_break_glass_not_admin",
                field="break_glass_emails",
            )
        break_glass.append(admin)

    provider_id = provider_id_of(organization, protocol)
    if protocol == Protocol.SAML:
        if saml_idp is None:
            raise InvalidInput(
                "Give the provider's metadata: its URL or the XML itself.",
                code="sso_metadata_missing",
                field="metadata_url",
            )
        idp: dict[str, str] = {"entity_id": saml_idp.entity_id}
        if saml_idp.metadata_url:
            idp["metadata_url"] = saml_idp.metadata_url
        else:
            idp |= {"sso_url": saml_idp.sso_url, "x509cert": saml_idp.x509cert}
        mapping = {"uid": [uid_attribute], "email": [email_attribute]}
        if name_attribute:
            mapping["name"] = [name_attribute]
        if school_id_attribute:
            mapping["school_id"] = [school_id_attribute]
        app_fields: dict[str, Any] = {
            "provider": "saml",
            "provider_id": provider_id,
            "name": organization.name,
            "client_id": organization.slug,
            "secret": "",
            "settings": {
                "idp": idp,
                "attribute_mapping": mapping,
                "advanced": {
                    "want_assertion_signed": True,
                    "reject_idp_initiated_sso": True,
                    "strict": True,
                },
            },
        }
    else:
        issuer = oidc_issuer.strip().rstrip("/")
        if not re.match(r"^https?://[^/\s]+", issuer):
            raise InvalidInput(
                "The issuer is the provider's address, like https://login.example.edu.",
                code="sso_issuer_invalid",
                field="oidc_issuer",
            )
        if not oidc_client_id.strip():
            raise InvalidInput(
                "Give the client ID the provider issued to Studyhall.",
                code="sso_client_id_missing",
                field="oidc_client_id",
            )
        secret = oidc_secret.strip()
        if not secret and existing is not None and existing.protocol == Protocol.OIDC:
            secret = existing.app.secret
        if not secret:
            raise InvalidInput(
                "Give the client secret the provider issued to Studyhall.",
                code="sso_secret_missing",
                field="oidc_secret",
            )
        app_fields = {
            "provider": "openid_connect",
            "provider_id": provider_id,
            "name": organization.name,
            "client_id": oidc_client_id.strip(),
            "secret": secret,
            "settings": {
                "server_url": issuer,
                "uid_field": uid_attribute,
                "oauth_pkce_enabled": True,
            },
        }
    if existing is None:
        app = SocialApp.objects.create(**app_fields)
        sso = SingleSignOn(organization=organization, app=app)
    else:
        sso = existing
        for field, value in app_fields.items():
            setattr(sso.app, field, value)
        sso.app.save()
    sso.protocol = protocol
    sso.email_domains = domains
    sso.uid_attribute = uid_attribute
    sso.email_attribute = email_attribute
    sso.name_attribute = name_attribute.strip()
    sso.school_id_attribute = school_id_attribute.strip()
    sso.required = required
    sso.save()
    sso.break_glass_admins.set(break_glass)
    audit.record(
        actor=actor,
        action="sso.configured",
        organization_id=organization.pk,
        protocol=protocol,
        email_domains=domains,
        required=required,
        break_glass=[u.pk for u in break_glass],
    )
    return sso
