"""moto's server as a subprocess on loopback, with IAM authentication on: after the setup, every call is checked."""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3
from botocore.config import Config

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account, in which the user is made
# The calls made while authentication is still off: the user, its access key and its policy (make_user below).
_SETUP_CALLS = 3
_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["sqs:*", "events:*", "kinesis:*", "firehose:*", "s3:*"], "Resource": "*"}
    ],
}


class MotoServer:
    def __init__(self, timeout: float = 60.0):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self._log = Path(tempfile.mkdtemp(prefix="outflow-moto-")) / "moto.log"
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(_SETUP_CALLS)},
            stdout=self._log.open("w"),
            stderr=subprocess.STDOUT,
        )
        self._wait_until_up(timeout)
        self.access_key_id, self.secret_access_key = self._make_user()

    def _wait_until_up(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            try:
                # moto's own API counts no action, so it leaves the unauthenticated setup calls untouched.
                urllib.request.urlopen(f"{self.url}/moto-api/data.json", timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.close()
        raise RuntimeError(f"moto's server did not start:\n{self._log.read_text()[-3000:]}")

    def _make_user(self) -> tuple[str, str]:
        iam = self._client("iam", access_key_id="setup", secret_access_key="setup")
        iam.create_user(UserName="outflow")
        key = iam.create_access_key(UserName="outflow")["AccessKey"]
        iam.put_user_policy(UserName="outflow", PolicyName="aws-targets", PolicyDocument=json.dumps(_POLICY))
        return key["AccessKeyId"], key["SecretAccessKey"]

    def _client(self, service: str, *, access_key_id: str, secret_access_key: str):
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def client(self, service: str):
        """A boto3 client signing as the user the setup made (so moto checks its calls too)."""
        return self._client(service, access_key_id=self.access_key_id, secret_access_key=self.secret_access_key)

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
