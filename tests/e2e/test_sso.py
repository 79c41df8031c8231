"""Campus sign-in in Chromium, through real identity providers started on loopback: pysaml2's
SAML IdP (`idp/saml_idp.py`) and the npm `oidc-provider` (`idp/oidc_provider.mjs`, installed
from the repository's package-lock.json by `make test`)."""

from __future__ import annotations

import datetime
import json
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from playwright.sync_api import Browser, Page, expect

from studyhall.testing import servers
from studyhall.testing.browser import close_context
from tests.e2e.conftest import DEMO_ENV, ROOT, run_in_demo

IDP_DIR = Path(__file__).resolve().parent / "idp"
STARTUP_SECONDS = 30

SAML_EPPN = "urn:oid:1.3.6.1.4.1.5923.1.1.1.6"
SAML_MAIL = "urn:oid:0.9.2342.19200300.100.1.3"
SAML_NAME = "urn:oid:2.16.840.1.113730.3.1.241"
SAML_STUDENT_ID = "urn:oid:1.3.6.1.4.1.25178.1.2.14"

SAML_ACCOUNTS = {
    # On Harbor's roster (imported, invited) with this school ID, under another address.
    "ana": {
        SAML_EPPN: "ana@harbor.edu",
        SAML_MAIL: "ana.ruiz@harbor.edu",
        SAML_NAME: "Ana Ruiz",
        SAML_STUDENT_ID: "H-1001",
    },
    # Not on the roster: Harbor lets its domain in, so a new student.
    "ben": {
        SAML_EPPN: "ben@harbor.edu",
        SAML_MAIL: "ben.okoye@harbor.edu",
        SAML_NAME: "Ben Okoye",
        SAML_STUDENT_ID: "H-2002",
    },
    # Someone the campus provider knows whose address is not Harbor's.
    "carl": {
        SAML_EPPN: "carl@harbor.edu",
        SAML_MAIL: "carl@elsewhere.org",
        SAML_NAME: "Carl Visitor",
        SAML_STUDENT_ID: "V-3003",
    },
}
# Keyed by the account's subject, which the provider's login page takes as the account name.
OIDC_ACCOUNTS = {
    "pairwise-7f3a9c": {
        "sub": "pairwise-7f3a9c",
        "email": "dana.lee@bayview.edu",
        "email_verified": True,
        "name": "Dana Lee",
        "student_id": "B-4004",
    },
}


def _key_pair(directory: Path, name: str) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(key_path), str(cert_path)


def _start(command: list[str], log: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=log.open("w"), text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if line.strip() != "ready":
        process.kill()
        pytest.fail(f"{command[1]} did not start: {line}{log.read_text()}")
    return process


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def saml_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which("xmlsec1") is None:
        pytest.fail("xmlsec1 is missing; `make test` installs Debian's xmlsec1 package.")
    directory = tmp_path_factory.mktemp("saml-idp")
    key, cert = _key_pair(directory, "idp")
    other_key, other_cert = _key_pair(directory, "impostor")
    port = servers.free_port()
    config = directory / "config.json"
    config.write_text(
        json.dumps(
            {
                "port": port,
                "key": key,
                "cert": cert,
                "other_key": other_key,
                "other_cert": other_cert,
                "accounts": SAML_ACCOUNTS,
            }
        )
    )
    process = _start(
        [sys.executable, str(IDP_DIR / "saml_idp.py"), str(config)], directory / "idp.log"
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory, demo_server: str) -> Iterator[str]:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "oidc-provider").exists():
        pytest.fail("oidc-provider is missing; `make test` installs it (npm ci).")
    directory = tmp_path_factory.mktemp("oidc")
    port = servers.free_port()
    config = directory / "config.json"
    config.write_text(
        json.dumps(
            {
                "port": port,
                "clients": [
                    {
                        "client_id": "studyhall-bayview",
                        "client_secret": "bayview-client-secret",
                        "redirect_uris": [
                            f"{demo_server}/accounts/oidc/oidc-bayview/login/callback/"
                        ],
                        "token_endpoint_auth_method": "client_secret_post",
                    }
                ],
                "accounts": OIDC_ACCOUNTS,
            }
        )
    )
    process = _start([node, str(IDP_DIR / "oidc_provider.mjs"), str(config)], directory / "op.log")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


SETUP = """
from django.db import transaction
from studyhall.accounts.models import User
from studyhall.identity import sso
from studyhall.orgs.models import Member, Membership, MemberStatus, Organization, Role
saml_url, oidc_issuer = {saml!r}, {oidc!r}
harbor = Organization.objects.create(
    name="Harbor College", slug="harbor", signup_policy="domains"
)
bayview = Organization.objects.create(
    name="Bayview College", slug="bayview", signup_policy="domains"
)
admin = User.objects.create_user(email="it@harbor.edu", password="studyhall-demo", name="Harbor IT")
Membership.objects.create(organization=harbor, user=admin, role=Role.ADMIN)
Membership.objects.create(organization=bayview, user=admin, role=Role.ADMIN)
ana = User.objects.create_user(email="ana.ruiz@harbor.edu", password=None, name="Ana R.")
Member.objects.create(
    organization=harbor, user=ana, status=MemberStatus.INVITED, school_id="H-1001"
)
Membership.objects.create(organization=harbor, user=ana, role=Role.TUTOR)
with transaction.atomic():
    sso.configure(
        actor=admin, organization_id=harbor.pk, protocol="saml", email_domains=["harbor.edu"],
        uid_attribute="{eppn}", email_attribute="{mail}", name_attribute="{name}",
        school_id_attribute="{student_id}", required=True, break_glass_emails=["it@harbor.edu"],
        saml_idp=sso.saml_idp_from_metadata(url=saml_url + "/metadata"),
    )
    sso.configure(
        actor=admin, organization_id=bayview.pk, protocol="oidc", email_domains=["bayview.edu"],
        uid_attribute="sub", email_attribute="email", name_attribute="name",
        school_id_attribute="student_id", required=False, break_glass_emails=[],
        oidc_issuer=oidc_issuer, oidc_client_id="studyhall-bayview",
        oidc_secret="bayview-client-secret",
    )
print("ok")
"""


@pytest.fixture(scope="module")
def campus(demo_server: str, saml_idp: str, oidc_provider: str) -> str:
    code = SETUP.format(
        saml=saml_idp,
        oidc=oidc_provider,
        eppn=SAML_EPPN,
        mail=SAML_MAIL,
        name=SAML_NAME,
        student_id=SAML_STUDENT_ID,
    )
    assert run_in_demo(code) == "ok"
    return demo_server


PERSON = """
SELECT u.id, u.email, u.name, m.school_id, m.status,
       (SELECT group_concat(role) FROM (
            SELECT r.role FROM orgs_membership r
            WHERE r.user_id = u.id AND r.organization_id = o.id ORDER BY r.role))
FROM socialaccount_socialaccount a
JOIN accounts_user u ON u.id = a.user_id
JOIN orgs_organization o ON o.slug = ?
JOIN orgs_member m ON m.user_id = u.id AND m.organization_id = o.id
WHERE a.provider = ? AND a.uid = ?
"""


def person(provider: str, uid: str, org: str) -> list[list[object]]:
    """The people linked to this campus identity, read straight from the demo's SQLite file (a
    Django shell in the demo would take seconds to start)."""
    path = DEMO_ENV["DATABASE_URL"].removeprefix("sqlite://")
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        rows = db.execute(PERSON, (org, provider, uid)).fetchall()
    return [[*row[:5], str(row[5] or "").split(",")] for row in rows]


def start_sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Sign in").click()


def saml_sign_in(page: Page, base: str, email: str, account: str, fault: str = "none") -> None:
    start_sign_in(page, base, email)
    expect(page.get_by_role("heading", name="Campus sign-in")).to_be_visible()
    page.get_by_label("Account").select_option(account)
    page.get_by_label("Fault").select_option(fault)
    page.get_by_role("button", name="Sign in").click()


def test_saml_first_sign_in_links_the_roster_person_and_the_second_reuses_them(
    campus: str, browser: Browser
) -> None:
    for _ in range(2):
        context = browser.new_context()
        page = context.new_page()
        saml_sign_in(page, campus, "ana.ruiz@harbor.edu", "ana")
        expect(page).to_have_url(re.compile(r"/sessions/$"))
        close_context(context)
    # One person, the roster's, found by school ID; active now; their tutor role kept.
    [[_, email, name, school_id, status, roles]] = person("saml-harbor", "ana@harbor.edu", "harbor")
    assert (email, name, school_id, status, roles) == (
        "ana.ruiz@harbor.edu",
        "Ana R.",
        "H-1001",
        "active",
        ["tutor"],
    )


def test_saml_first_sign_in_provisions_a_student_with_the_school_id(
    campus: str, page: Page
) -> None:
    saml_sign_in(page, campus, "ben.okoye@harbor.edu", "ben")
    expect(page).to_have_url(re.compile(r"/sessions/$"))
    [[_, email, name, school_id, status, roles]] = person("saml-harbor", "ben@harbor.edu", "harbor")
    assert (email, name, school_id, status, roles) == (
        "ben.okoye@harbor.edu",
        "Ben Okoye",
        "H-2002",
        "active",
        ["student"],
    )


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("wrong_audience", "meant for another service"),
        ("bad_signature", "signature did not match"),
        ("expired", "expired"),
    ],
)
def test_saml_refuses_an_answer_it_cannot_trust(
    campus: str, page: Page, fault: str, message: str
) -> None:
    saml_sign_in(page, campus, "ben.okoye@harbor.edu", "ben", fault)
    expect(page.get_by_role("heading", name="You are not signed in")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(message)
    page.goto(f"{campus}/sessions/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_saml_refuses_an_address_outside_the_domains(campus: str, page: Page) -> None:
    saml_sign_in(page, campus, "carl@harbor.edu", "carl")
    expect(page.get_by_role("heading", name="You are not signed in")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(
        "carl@elsewhere.org is not an address of Harbor College"
    )
    assert person("saml-harbor", "carl@harbor.edu", "harbor") == []


def test_a_password_is_refused_where_campus_sign_in_is_required(campus: str, page: Page) -> None:
    page.goto(f"{campus}/accounts/login/")
    page.get_by_label("Email").fill("ben.okoye@harbor.edu")
    page.get_by_label("Password").fill("a-guess-or-an-old-one")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Harbor College signs its people in through its campus sign-in"
    )
    # The break-glass admin still signs in with a password.
    page.get_by_label("Email").fill("it@harbor.edu")
    page.get_by_label("Password").fill("studyhall-demo")
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/$"))


def test_oidc_first_sign_in_provisions_and_the_second_reuses(campus: str, browser: Browser) -> None:
    for _ in range(2):
        context = browser.new_context()
        page = context.new_page()
        start_sign_in(page, campus, "dana.lee@bayview.edu")
        page.locator('input[name="login"]').fill("pairwise-7f3a9c")
        page.locator('input[name="password"]').fill("anything")
        page.locator('button[type="submit"]').click()
        expect(page).to_have_url(re.compile(r"/sessions/$"))
        close_context(context)
    [[_, email, name, school_id, status, roles]] = person(
        "oidc-bayview", "pairwise-7f3a9c", "bayview"
    )
    assert (email, name, school_id, status, roles) == (
        "dana.lee@bayview.edu",
        "Dana Lee",
        "B-4004",
        "active",
        ["student"],
    )
