"""Single sign-on's rules: where an address signs in, who a first campus sign-in is, when a
password is refused, and the console page that sets it up. The protocols themselves run
against real identity providers in tests/e2e/test_sso.py."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from allauth.socialaccount.models import SocialAccount, SocialApp
from django.db import transaction
from django.test import Client
from django.urls import reverse

from conftest import Cast
from studyhall.accounts.models import User
from studyhall.console.tests.conftest import signed_in
from studyhall.core.errors import Conflict, DomainError, Forbidden, InvalidInput
from studyhall.core.models import AuditEntry
from studyhall.identity import download, sso
from studyhall.identity.models import SingleSignOn
from studyhall.orgs.models import Member, Membership, MemberStatus, Role, SignupPolicy
from studyhall.testing import factories as f

CERT = "MIIBszCCARygAwIBAgIUTestCertificateOnlyForParsing"
METADATA = f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.college.edu/idp">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>
      <ds:X509Certificate>{CERT}</ds:X509Certificate>
    </ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
        Location="https://idp.college.edu/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"""


def configure(cast: Cast, **changes: object) -> SingleSignOn:
    values: dict[str, object] = {
        "actor": cast.admin,
        "organization_id": cast.org.pk,
        "protocol": "saml",
        "email_domains": ["college.edu"],
        "uid_attribute": sso.SAML_EPPN,
        "email_attribute": sso.SAML_MAIL,
        "name_attribute": sso.SAML_DISPLAY_NAME,
        "school_id_attribute": "studentID",
        "required": False,
        "break_glass_emails": [],
        "saml_idp": sso.saml_idp_from_metadata(xml=METADATA),
    } | changes
    with transaction.atomic():
        return sso.configure(**values)  # type: ignore[arg-type]


def identity(email: str, school_id: str = "", uid: str = "u-1") -> sso.CampusIdentity:
    return sso.CampusIdentity(uid=uid, email=email, name="Rosa Diaz", school_id=school_id)


def link(config: SingleSignOn, who: sso.CampusIdentity) -> tuple[User, str]:
    with transaction.atomic():
        return sso.link_or_provision(sso=config, identity=who)


def test_saml_metadata_is_read_into_the_socialapp(cast: Cast) -> None:
    config = configure(cast, required=True, break_glass_emails=[cast.admin.email])
    app = SocialApp.objects.get()
    assert (app.provider, app.provider_id, app.client_id) == (
        "saml",
        f"saml-{cast.org.slug}",
        cast.org.slug,
    )
    assert app.settings["idp"] == {
        "entity_id": "https://idp.college.edu/idp",
        "sso_url": "https://idp.college.edu/sso",
        "x509cert": CERT,
    }
    assert app.settings["attribute_mapping"] == {
        "uid": [sso.SAML_EPPN],
        "email": [sso.SAML_MAIL],
        "name": [sso.SAML_DISPLAY_NAME],
        "school_id": ["studentID"],
    }
    assert app.settings["advanced"]["want_assertion_signed"] is True
    assert list(config.break_glass_admins.all()) == [cast.admin]
    assert AuditEntry.objects.filter(action="sso.configured", organization_id=cast.org.pk).count()


def test_oidc_keeps_the_saved_secret_when_left_empty(cast: Cast) -> None:
    oidc = {
        "protocol": "oidc",
        "uid_attribute": "sub",
        "email_attribute": "email",
        "saml_idp": None,
        "oidc_issuer": "https://login.college.edu/",
        "oidc_client_id": "studyhall",
        "oidc_secret": "s3cret",
    }
    configure(cast, **oidc)
    configure(cast, **(oidc | {"oidc_secret": "", "oidc_client_id": "studyhall-2"}))
    app = SocialApp.objects.get()
    assert (app.provider, app.provider_id, app.client_id, app.secret) == (
        "openid_connect",
        f"oidc-{cast.org.slug}",
        "studyhall-2",
        "s3cret",
    )
    assert app.settings == {
        "server_url": "https://login.college.edu",
        "uid_field": "sub",
        "oauth_pkce_enabled": True,
    }


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"uid_attribute": sso.SAML_MAIL}, "sso_uid_is_email", "uid_attribute"),
        ({"uid_attribute": "email"}, "sso_uid_is_email", "uid_attribute"),
        ({"uid_attribute": " "}, "sso_uid_attribute_missing", "uid_attribute"),
        ({"email_domains": ["not a domain"]}, "sso_domain_invalid", "email_domains"),
        ({"email_domains": []}, "sso_domain_missing", "email_domains"),
        ({"break_glass_emails": ["tutor@example.test"]}, "sso_break_glass_not_admin", None),
        ({"saml_idp": None}, "sso_metadata_missing", "metadata_url"),
        (
            {"protocol": "oidc", "oidc_issuer": "login.college.edu"},
            "sso_issuer_invalid",
            "oidc_issuer",
        ),
    ],
)
def test_bad_settings_are_refused_and_nothing_is_written(
    cast: Cast, changes: dict[str, object], code: str, field: str | None
) -> None:
    with pytest.raises(InvalidInput) as refused:
        configure(cast, **changes)
    assert refused.value.code == code
    if field is not None:
        assert refused.value.extra["field"] == field
    assert not SocialApp.objects.exists() and not SingleSignOn.objects.exists()


def test_unreadable_metadata_is_the_admins_input() -> None:
    with pytest.raises(InvalidInput) as refused:
        sso.saml_idp_from_metadata(xml="<not-metadata/>")
    assert (refused.value.code, refused.value.extra["field"]) == (
        "sso_metadata_unreadable",
        "metadata_xml",
    )


def test_a_domain_signs_in_through_one_organization_only(cast: Cast) -> None:
    configure(cast)
    other_admin = f.add_member(cast.other_org, f.make_user(), Role.ADMIN)
    with pytest.raises(Conflict) as refused:
        configure(cast, actor=other_admin, organization_id=cast.other_org.pk)
    assert refused.value.code == "sso_domain_taken"
    assert SingleSignOn.objects.count() == 1


def test_only_the_organizations_admins_configure_it(cast: Cast) -> None:
    with pytest.raises(DomainError):
        configure(cast, actor=cast.tutor)
    assert not SocialApp.objects.exists()


def test_route_for_an_address(cast: Cast) -> None:
    config = configure(cast, break_glass_emails=[cast.admin.email])
    assert sso.route_for("someone@college.edu") == config
    assert sso.route_for("Someone@COLLEGE.edu") == config
    # A member of the organization under another address goes to its provider too.
    assert sso.route_for(cast.tutor.email) == config
    assert sso.route_for(cast.admin.email) is None  # break-glass
    assert sso.route_for(cast.outsider.email) is None
    assert sso.route_for("nobody@elsewhere.org") is None


def test_first_sign_in_links_the_roster_person_by_school_id(cast: Cast) -> None:
    config = configure(cast)
    Member.objects.filter(organization=cast.org, user=cast.student).update(
        status=MemberStatus.INVITED, school_id="S-77"
    )
    user, how = link(config, identity("rosa@college.edu", "S-77"))
    assert (user, how) == (cast.student, "school_id")
    member = Member.objects.get(organization=cast.org, user=cast.student)
    assert (member.status, member.school_id) == (MemberStatus.ACTIVE, "S-77")
    assert list(
        Membership.objects.filter(organization=cast.org, user=user).values_list("role", flat=True)
    ) == [Role.STUDENT]


def test_first_sign_in_links_by_email_and_records_the_school_id(cast: Cast) -> None:
    config = configure(cast)
    person = f.add_member(cast.org, f.make_user(email="Rosa@college.edu"), Role.TUTOR)
    user, how = link(config, identity("rosa@college.edu", "S-88"))
    assert (user, how) == (person, "email")
    assert Member.objects.get(organization=cast.org, user=person).school_id == "S-88"
    assert user.emailaddress_set.get().verified  # type: ignore[attr-defined]


def test_first_sign_in_provisions_a_student_when_the_domains_may_sign_up(cast: Cast) -> None:
    cast.org.signup_policy = SignupPolicy.DOMAINS
    cast.org.save()
    config = configure(cast)
    user, how = link(config, identity("new@college.edu", "S-99"))
    assert how == "provisioned"
    assert (user.email, user.name, user.has_usable_password()) == (
        "new@college.edu",
        "Rosa Diaz",
        False,
    )
    member = Member.objects.get(organization=cast.org, user=user)
    assert (member.status, member.school_id) == (MemberStatus.ACTIVE, "S-99")
    assert list(Membership.objects.filter(user=user).values_list("role", flat=True)) == [
        Role.STUDENT
    ]


@pytest.mark.parametrize(
    ("email", "code"),
    [("new@college.edu", "sso_not_invited"), ("new@elsewhere.org", "sso_outside_domains")],
)
def test_first_sign_in_refusals_write_nothing(cast: Cast, email: str, code: str) -> None:
    config = configure(cast)  # sign-up policy: invited people only
    users = User.objects.count()
    with pytest.raises(Forbidden) as refused:
        link(config, identity(email, "S-99"))
    assert refused.value.code == code
    assert User.objects.count() == users
    assert not Member.objects.filter(school_id="S-99").exists()


def test_a_deactivated_member_is_refused(cast: Cast) -> None:
    config = configure(cast)
    Member.objects.filter(organization=cast.org, user=cast.student).update(
        status=MemberStatus.DEACTIVATED, school_id="S-5"
    )
    with pytest.raises(Forbidden) as refused:
        link(config, identity("rosa@college.edu", "S-5"))
    assert refused.value.code == "sso_member_deactivated"


def test_a_roster_school_id_that_disagrees_is_refused(cast: Cast) -> None:
    config = configure(cast)
    f.add_member(cast.org, f.make_user(email="rosa@college.edu"), school_id="S-1")
    with pytest.raises(Conflict) as refused:
        link(config, identity("rosa@college.edu", "S-2"))
    assert refused.value.code == "sso_school_id_mismatch"
    assert Member.objects.get(school_id="S-1")


def _sign_in(client: Client, email: str, password: str = "") -> object:
    # A browser always names the host, which SAML's request needs.
    return client.post(
        reverse("account_login"),
        {"login": email, "password": password},
        HTTP_HOST="127.0.0.1",
    )


def test_sign_in_sends_an_sso_address_to_its_provider(cast: Cast) -> None:
    configure(cast)
    response = _sign_in(Client(), "rosa@college.edu")
    assert response.status_code == 200  # type: ignore[attr-defined]
    html = response.content.decode()  # type: ignore[attr-defined]
    assert "Taking you to Test College" in html
    assert 'content="0;url=https://idp.college.edu/sso?SAMLRequest=' in html


def test_sign_in_without_a_password_elsewhere_asks_for_it(cast: Cast) -> None:
    configure(cast)
    client = Client()
    response = _sign_in(client, cast.outsider.email)
    assert "Enter your password." in response.content.decode()  # type: ignore[attr-defined]
    assert "_auth_user_id" not in client.session


def test_a_required_campus_sign_in_refuses_passwords_but_for_break_glass(cast: Cast) -> None:
    configure(cast, required=True, break_glass_emails=[cast.admin.email])
    client = Client()
    response = _sign_in(client, cast.tutor.email, f.PASSWORD)
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert (
        "Test College signs its people in through its campus sign-in, so passwords do not work"
        in response.content.decode()  # type: ignore[attr-defined]
    )
    assert "_auth_user_id" not in client.session
    # The API's token endpoint refuses the password too.
    refused = Client().post(
        "/api/v1/auth/token",
        {"email": cast.tutor.email, "password": f.PASSWORD},
        content_type="application/json",
    )
    assert refused.status_code == 401
    # Someone outside the organization keeps their password; so does the break-glass admin.
    assert _sign_in(Client(), cast.outsider.email, f.PASSWORD).status_code == 302  # type: ignore[attr-defined]
    assert _sign_in(Client(), cast.admin.email, f.PASSWORD).status_code == 302  # type: ignore[attr-defined]


def test_the_console_page_sets_up_saml_from_pasted_metadata(cast: Cast) -> None:
    client = signed_in(cast.admin)
    url = reverse("identity_console:single_sign_on", kwargs={"org_id": cast.org.pk})
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert f"/accounts/saml/{cast.org.slug}/acs/" in html
    assert f"/accounts/oidc/oidc-{cast.org.slug}/login/callback/" in html
    response = client.post(
        url,
        {
            "protocol": "saml",
            "email_domains": "college.edu, students.college.edu",
            "metadata_xml": METADATA,
            "uid_attribute": sso.SAML_PAIRWISE_ID,
            "email_attribute": sso.SAML_MAIL,
            "school_id_attribute": "studentID",
            "required": "on",
            "break_glass_emails": cast.admin.email,
        },
    )
    assert response.status_code == 302
    config = SingleSignOn.objects.get()
    assert (config.email_domains, config.uid_attribute, config.required) == (
        ["college.edu", "students.college.edu"],
        sso.SAML_PAIRWISE_ID,
        True,
    )
    assert "Set up: SAML 2.0" in client.get(url).content.decode()


def test_the_console_page_shows_a_refusal_on_its_field(cast: Cast) -> None:
    client = signed_in(cast.admin)
    url = reverse("identity_console:single_sign_on", kwargs={"org_id": cast.org.pk})
    response = client.post(
        url,
        {
            "protocol": "saml",
            "email_domains": "college.edu",
            "metadata_xml": METADATA,
            "uid_attribute": "mail",
            "email_attribute": "mail",
        },
    )
    assert response.status_code == 400
    assert "choose a stable identifier" in response.content.decode()
    assert not SingleSignOn.objects.exists()


def test_the_data_download_holds_the_campus_identity(cast: Cast) -> None:
    config = configure(cast)
    SocialAccount.objects.create(
        user=cast.student,
        provider=config.app.provider_id,
        uid="rosa@college.edu",
        extra_data={sso.SAML_MAIL: ["rosa@college.edu"]},
    )
    archive = zipfile.ZipFile(io.BytesIO(download.build_zip(cast.student)))
    profile = json.loads(archive.read("studyhall-data/profile.json"))
    assert profile["campus_sign_in"] == [
        {
            "provider": f"saml-{cast.org.slug}",
            "identifier": "rosa@college.edu",
            "attributes": {sso.SAML_MAIL: ["rosa@college.edu"]},
            "last_sign_in": profile["campus_sign_in"][0]["last_sign_in"],
        }
    ]


def test_a_garbled_saml_answer_gets_the_refusal_page(cast: Cast) -> None:
    configure(cast)
    client = Client(HTTP_HOST="127.0.0.1")
    acs = reverse("saml_acs", kwargs={"organization_slug": cast.org.slug})
    response = client.post(acs, {"SAMLResponse": "not base64 at all!"}, follow=True)
    assert response.status_code == 400
    html = response.content.decode()
    assert "You are not signed in" in html
    assert "_auth_user_id" not in client.session


def test_a_person_of_another_organization_keeps_their_password(cast: Cast) -> None:
    cast.org.signup_policy = SignupPolicy.DOMAINS
    cast.org.save()
    config = configure(cast)
    person = f.add_member(cast.other_org, f.make_user(email="rosa@college.edu"), Role.TUTOR)
    user, how = link(config, identity("rosa@college.edu", "S-3"))
    assert (user, how) == (person, "email")
    assert sorted(Member.objects.filter(user=user).values_list("organization_id", flat=True)) == [
        cast.org.pk,
        cast.other_org.pk,
    ]
    # Campus sign-in is optional here, so the password they had still works.
    assert _sign_in(Client(), "rosa@college.edu", f.PASSWORD).status_code == 302  # type: ignore[attr-defined]
