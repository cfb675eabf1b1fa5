"""A software WebAuthn authenticator for tests: a real ES256 key making real attestations ("none") and
assertions, so py_webauthn's own verification runs on them."""
import json
import os
from hashlib import sha256

import cbor2
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.hashes import SHA256
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

UP, UV, AT = 0x01, 0x04, 0x40


class SoftAuthenticator:
    def __init__(self, rp_id: str = "localhost", origin: str = "http://localhost"):
        self.rp_id, self.origin = rp_id, origin
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(16)
        self.sign_count = 0
        self.user_handle: str | None = None

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin or self.origin,
                           "crossOrigin": False}).encode()

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def create(self, options: dict, *, verified: bool = True, origin: str | None = None) -> dict:
        """What ``navigator.credentials.create`` hands the page, as the passkey script posts it."""
        if isinstance(options, str):
            options = json.loads(options)
        self.user_handle = options["user"]["id"]
        auth_data = (sha256(self.rp_id.encode()).digest() + bytes([UP | AT | (UV if verified else 0)])
                     + self.sign_count.to_bytes(4, "big") + bytes(16)
                     + len(self.credential_id).to_bytes(2, "big") + self.credential_id + self._cose_key())
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        cid = bytes_to_base64url(self.credential_id)
        return {"id": cid, "rawId": cid, "type": "public-key", "clientExtensionResults": {},
                "response": {"clientDataJSON": bytes_to_base64url(self._client_data("webauthn.create",
                                                                                    options["challenge"], origin)),
                             "attestationObject": bytes_to_base64url(attestation), "transports": ["internal"]}}

    def get(self, options: dict, *, verified: bool = True, sign_count: int | None = None,
            origin: str | None = None) -> dict:
        """What ``navigator.credentials.get`` hands the page."""
        if isinstance(options, str):
            options = json.loads(options)
        self.sign_count = self.sign_count + 1 if sign_count is None else sign_count
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        auth_data = (sha256(self.rp_id.encode()).digest() + bytes([UP | (UV if verified else 0)])
                     + self.sign_count.to_bytes(4, "big"))
        signature = self.key.sign(auth_data + sha256(client_data).digest(), ec.ECDSA(SHA256()))
        cid = bytes_to_base64url(self.credential_id)
        response = {"clientDataJSON": bytes_to_base64url(client_data),
                    "authenticatorData": bytes_to_base64url(auth_data), "signature": bytes_to_base64url(signature)}
        if self.user_handle:
            response["userHandle"] = self.user_handle
        return {"id": cid, "rawId": cid, "type": "public-key", "clientExtensionResults": {}, "response": response}


def challenge_of(options) -> bytes:
    return base64url_to_bytes((json.loads(options) if isinstance(options, str) else options)["challenge"])
