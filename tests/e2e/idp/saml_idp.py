"""A SAML 2.0 identity provider for the sign-in tests, built on pysaml2's IdP (`saml2.server`),
serving HTTP on loopback. Its login page lets the test choose whose answer it sends and,
for the refusal tests, a fault: the audience of another service, a signature by a key the
service provider does not trust, or an assertion that already expired.

Run: python saml_idp.py CONFIG.json (port, base, keys, accounts); prints "ready" once listening.
"""

from __future__ import annotations

import html
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse
from urllib.request import urlopen

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_TRANSIENT, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

FAULTS = ("none", "wrong_audience", "bad_signature", "expired")


def build_server(base: str, key: str, cert: str, lifetime_minutes: int) -> Server:
    config = IdPConfig()
    config.load(
        {
            "entityid": f"{base}/metadata",
            "service": {
                "idp": {
                    "name": "Test campus IdP",
                    "endpoints": {
                        "single_sign_on_service": [(f"{base}/sso", BINDING_HTTP_REDIRECT)]
                    },
                    "policy": {
                        "default": {
                            "lifetime": {"minutes": lifetime_minutes},
                            "name_form": NAME_FORMAT_URI,
                        }
                    },
                    "name_id_format": [NAMEID_FORMAT_TRANSIENT],
                    "want_authn_requests_signed": False,
                }
            },
            "key_file": key,
            "cert_file": cert,
            "allow_unknown_attributes": True,
            "metadata": {},
        }
    )
    return Server(config=config)


def known(server: Server, entity_id: str, metadata_url: str) -> None:
    """Load the service provider's metadata (from its URL, its entity ID) the first time; under
    another entity ID for the wrong-audience fault."""
    try:
        server.metadata[entity_id]
    except KeyError:
        with urlopen(metadata_url, timeout=10) as response:
            xml = response.read().decode()
        server.metadata.load("inline", xml.replace(metadata_url, entity_id))


class Handler(BaseHTTPRequestHandler):
    servers: dict[str, Server]
    accounts: dict[str, dict[str, str]]

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: str | bytes, content_type: str = "text/html") -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/metadata":
            self._send(200, create_metadata_string(None, self.servers["none"].config), "text/xml")
        elif url.path == "/sso":
            request = self.servers["none"].parse_authn_request(
                query["SAMLRequest"], BINDING_HTTP_REDIRECT
            )
            options = "".join(
                f'<option value="{html.escape(name)}">{html.escape(name)}</option>'
                for name in self.accounts
            )
            faults = "".join(f'<option value="{f}">{f}</option>' for f in FAULTS)
            hidden = "".join(
                f'<input type="hidden" name="{k}" value="{html.escape(v)}">'
                for k, v in query.items()
                if k in {"SAMLRequest", "RelayState"}
            )
            self._send(
                200,
                "<!doctype html><title>Campus sign-in</title><h1>Campus sign-in</h1>"
                f"<p>Request from {html.escape(request.message.issuer.text)}</p>"
                f'<form method="post" action="/login">{hidden}'
                f'<label>Account <select name="account">{options}</select></label>'
                f'<label>Fault <select name="fault">{faults}</select></label>'
                "<button>Sign in</button></form>",
            )
        else:
            self._send(404, "not found", "text/plain")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        fault = form.get("fault", "none")
        request = (
            self.servers["none"]
            .parse_authn_request(form["SAMLRequest"], BINDING_HTTP_REDIRECT)
            .message
        )
        attributes = self.accounts[form["account"]]
        sp_entity_id = request.issuer.text
        if fault == "wrong_audience":
            sp_entity_id = "http://127.0.0.1/another-service/metadata/"
        server = self.servers[fault if fault in ("bad_signature", "expired") else "none"]
        known(server, sp_entity_id, request.issuer.text)
        response = server.create_authn_response(
            identity={name: [value] for name, value in attributes.items()},
            in_response_to=request.id,
            destination=request.assertion_consumer_service_url,
            sp_entity_id=sp_entity_id,
            name_id=NameID(format=NAMEID_FORMAT_TRANSIENT, text=f"t-{form['account']}"),
            authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"},
            sign_response=True,
            sign_assertion=True,
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
        )
        binding = server.apply_binding(
            BINDING_HTTP_POST,
            str(response),
            request.assertion_consumer_service_url,
            form.get("RelayState", ""),
            response=True,
        )
        self._send(200, binding["data"])


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
    base = f"http://127.0.0.1:{config['port']}"
    Handler.servers = {
        "none": build_server(base, config["key"], config["cert"], 5),
        "expired": build_server(base, config["key"], config["cert"], -30),
        "bad_signature": build_server(base, config["other_key"], config["other_cert"], 5),
    }
    Handler.accounts = config["accounts"]
    httpd = ThreadingHTTPServer(("127.0.0.1", config["port"]), Handler)
    print("ready", flush=True)  # noqa: T201 - the test waits for this line.
    httpd.serve_forever()


if __name__ == "__main__":
    main()
