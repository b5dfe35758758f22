"""A mutual-TLS endpoint for the tests: a private CA, an HTTPS receiver on loopback that requires a client certificate
issued by it, and a client certificate that it accepts."""

from dataclasses import dataclass

from tests.receiver import Receiver
from tests.tls_material import Issued, TestCa, server_context


@dataclass
class MutualTlsEndpoint:
    ca: TestCa
    client: Issued
    receiver: Receiver

    def url(self, path: str) -> str:
        """By name: the server certificate is for localhost, which SNI and Host must carry."""
        return f"https://localhost:{self.receiver.port}{path}"


def mutual_tls_endpoint() -> MutualTlsEndpoint:
    ca = TestCa()
    server = ca.issue("localhost", server=True)
    receiver = Receiver(tls=server_context(ca=ca, server=server, client_ca=ca))
    return MutualTlsEndpoint(ca=ca, client=ca.issue("outflow-client", server=False), receiver=receiver)
