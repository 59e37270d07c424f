"""Fixtures: an emulated org served over plain HTTP and over TLS (trustme CA), and clients for it."""

import datetime
import pathlib
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from salesforce_connector.core.client import ClientSettings, SalesforceClient
from salesforce_connector.emulator import EmulatorServer, Org, VirtualClock

FIXTURES = pathlib.Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def certificate_authority() -> trustme.CA:
	return trustme.CA()


@pytest.fixture(scope="session")
def jwt_key_pair() -> tuple[str, str]:
	"""(private key PEM, self-signed certificate PEM) as an admin makes for a Connected App."""
	key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
	name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "salesforce-connector")])
	now = datetime.datetime.now(datetime.timezone.utc)
	certificate = (
		x509.CertificateBuilder()
		.subject_name(name)
		.issuer_name(name)
		.public_key(key.public_key())
		.serial_number(x509.random_serial_number())
		.not_valid_before(now - datetime.timedelta(days=1))
		.not_valid_after(now + datetime.timedelta(days=365))
		.sign(key, hashes.SHA256())
	)
	private_pem = key.private_bytes(
		serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
	).decode()
	return private_pem, certificate.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="session")
def stranger_private_key() -> str:
	"""An RSA key the Connected App has never seen."""
	key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
	return key.private_bytes(
		serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
	).decode()


@pytest.fixture
def org(jwt_key_pair) -> Org:
	"""A fresh org whose clock stands still at the real present (JWT expiry is checked against it)."""
	emulated = Org(clock=VirtualClock())
	emulated.connected_app.certificate_pem = jwt_key_pair[1]
	return emulated


@pytest.fixture(params=["http", "https"])
def transport(request) -> str:
	return request.param


@pytest.fixture
def server(org, transport, certificate_authority):
	context = _server_context(certificate_authority) if transport == "https" else None
	emulator = EmulatorServer(org, ssl_context=context).start()
	yield emulator
	emulator.stop()


def _server_context(ca: trustme.CA) -> ssl.SSLContext:
	context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
	ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
	return context


@pytest.fixture
def http_session(transport, certificate_authority, tmp_path) -> requests.Session:
	"""A session that trusts the test CA, as an admin's machine would trust a real certificate."""
	session = requests.Session()
	# REQUESTS_CA_BUNDLE in the environment would override session.verify, so ignore the environment
	session.trust_env = False
	if transport == "https":
		ca_file = tmp_path / "ca.pem"
		certificate_authority.cert_pem.write_to_path(str(ca_file))
		session.verify = str(ca_file)
	yield session
	session.close()


@pytest.fixture
def make_settings(org, server, jwt_key_pair) -> Callable[..., ClientSettings]:
	def build(flow: str = "client_credentials", **overrides) -> ClientSettings:
		user = org.integration_user
		values = {
			"auth_flow": flow,
			"consumer_key": org.connected_app.consumer_key,
			"consumer_secret": org.connected_app.consumer_secret,
			"username": user.username,
			"password": user.password,
			"security_token": user.security_token,
			"private_key_pem": jwt_key_pair[0],
			"login_url": server.url,
			"timeout": 5.0,
			"retry_attempts": 3,
			"retry_initial_wait": 0.001,
			"retry_max_wait": 0.005,
		}
		values.update(overrides)
		return ClientSettings(**values)

	return build


@pytest.fixture
def make_client(make_settings, http_session) -> Callable[..., SalesforceClient]:
	def build(flow: str = "client_credentials", **overrides) -> SalesforceClient:
		return SalesforceClient(make_settings(flow, **overrides), session=http_session)

	return build


@pytest.fixture
def client(make_client) -> SalesforceClient:
	return make_client()


class OutboundReceiver:
	"""A loopback endpoint that records every POST and answers with an Ack, a fault or anything set."""

	ACK = (FIXTURES / "outbound-messages" / "ack-response-bom.xml").read_bytes()
	FAULT = (
		b'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
		b"<soapenv:Body><soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>busy</faultstring>"
		b"</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
	)

	def __init__(self, ssl_context: ssl.SSLContext | None):
		self.bodies: list[bytes] = []
		self.headers: list[dict] = []
		self.answer: tuple[int, bytes] = (200, self.ACK)
		self.received = threading.Event()
		receiver = self

		class Handler(BaseHTTPRequestHandler):
			disable_nagle_algorithm = True

			def do_POST(self):
				body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
				receiver.bodies.append(body)
				receiver.headers.append(dict(self.headers.items()))
				status, payload = receiver.answer
				self.send_response(status)
				self.send_header("Content-Type", "text/xml; charset=utf-8")
				self.send_header("Content-Length", str(len(payload)))
				self.end_headers()
				self.wfile.write(payload)
				receiver.received.set()

			def log_message(self, *args):
				pass

		self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
		if ssl_context is not None:
			self.httpd.socket = ssl_context.wrap_socket(self.httpd.socket, server_side=True)
		scheme = "https" if ssl_context else "http"
		self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}/salesforce/outbound"
		self.thread = threading.Thread(
			target=self.httpd.serve_forever, kwargs={"poll_interval": 0.005}, daemon=True
		)
		self.thread.start()

	def stop(self) -> None:
		self.httpd.shutdown()
		self.httpd.server_close()


@pytest.fixture
def receiver(org, transport, certificate_authority, http_session):
	"""An Outbound Message endpoint; the org's sender trusts the test CA when it runs over TLS."""
	context = _server_context(certificate_authority) if transport == "https" else None
	endpoint = OutboundReceiver(context)
	org.outbound.session = http_session
	yield endpoint
	endpoint.stop()


@pytest.fixture
def sf(client):
	"""Unmodified simple-salesforce, logged in through the client, talking to the emulator."""
	return client.salesforce


class RawApi:
	"""Plain HTTP calls to the data API, for what simple-salesforce hides (headers, status codes)."""

	def __init__(self, server, session: requests.Session, token: str, version: str = "59.0"):
		self.base = f"{server.url}/services/data/v{version}"
		self.session = session
		self.headers = {"Authorization": f"Bearer {token}"}

	def call(self, method: str, path: str, headers: dict | None = None, **kwargs) -> requests.Response:
		merged = {**self.headers, **(headers or {})}
		return self.session.request(method, f"{self.base}/{path}", headers=merged, timeout=10, **kwargs)


@pytest.fixture
def raw(org, server, http_session) -> RawApi:
	return RawApi(server, http_session, org.issue_session(org.integration_user).token)
