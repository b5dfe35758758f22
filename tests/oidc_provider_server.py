"""A real OpenID Connect provider on loopback for the single sign-on tests: django-oauth-toolkit with OpenID Connect on,
run as a separate Django process (tests/oidc_provider/) with its own database, users and an RSA key made here."""

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.throwaway_servers import free_port

ROOT = Path(__file__).resolve().parent.parent
CLIENT_ID = "outflow-workbench"


class OidcProvider:
    """The provider at http://127.0.0.1:PORT/o, with Outflow registered as a client and the given users.

    Each user is {"username", "password", "email", "email_verified"}.
    """

    def __init__(self, *, redirect_uris: list[str], users: list[dict], timeout: float = 60.0):
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}/o"
        self.client_id = CLIENT_ID
        self.client_secret = secrets.token_urlsafe(24)
        self.directory = Path(tempfile.mkdtemp(prefix="outflow-oidc-"))
        key_file = self.directory / "signing-key.pem"
        key_file.write_bytes(
            rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        self._env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.oidc_provider.settings",
            "PYTHONPATH": str(ROOT),
            "OIDC_PROVIDER_SECRET_KEY": secrets.token_urlsafe(32),
            "OIDC_PROVIDER_DATABASE": str(self.directory / "provider.sqlite3"),
            "OIDC_PROVIDER_ISSUER": self.issuer,
            "OIDC_PROVIDER_RSA_KEY_FILE": str(key_file),
        }
        self.log = self.directory / "provider.log"
        self._django("migrate", "--noinput")
        setup = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "redirect_uris": redirect_uris,
            "users": users,
        }
        self._django("provider_setup", json.dumps(setup))
        self._process = subprocess.Popen(
            [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{self.port}", "--noreload"],
            env=self._env,
            cwd=ROOT,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        self._wait_until_up(timeout)

    def _django(self, *arguments: str) -> None:
        subprocess.run([sys.executable, "-m", "django", *arguments], env=self._env, cwd=ROOT, check=True)

    def _wait_until_up(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._process.poll() is None:
            try:
                urllib.request.urlopen(f"{self.issuer}/.well-known/openid-configuration", timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        self.close()
        raise RuntimeError(f"the OpenID Connect provider did not start:\n{self.log.read_text()[-3000:]}")

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
