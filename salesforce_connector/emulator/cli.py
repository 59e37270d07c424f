"""`python -m salesforce_connector.emulator`: serve a local org for demos and manual testing."""

import argparse
import datetime
import ipaddress
import logging
import secrets
import ssl
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from salesforce_connector.emulator.clock import VirtualClock
from salesforce_connector.emulator.ids import IdFactory
from salesforce_connector.emulator.org import Org
from salesforce_connector.emulator.seed import seed_demo
from salesforce_connector.emulator.server import EmulatorServer

logger = logging.getLogger(__name__)

# what the demo rules send: the fields the connector reads from each object
OUTBOUND_FIELDS = {
	"Account": ["Name", "Phone", "BillingStreet", "BillingCity", "BillingState", "BillingPostalCode", "BillingCountry", "GSTIN__c", "SystemModstamp"],
	"Contact": ["FirstName", "LastName", "Email", "Phone", "AccountId", "Title", "SystemModstamp"],
	"Lead": ["FirstName", "LastName", "Company", "Email", "Phone", "Status", "IsConverted", "GSTIN__c", "SystemModstamp"],
	"Opportunity": ["Name", "AccountId", "StageName", "IsWon", "IsClosed", "Amount", "CloseDate", "SystemModstamp"],
}  # fmt: skip


@dataclass
class Running:
	org: Org
	server: EmulatorServer
	certificate_file: Path | None = None

	def stop(self) -> None:
		self.org.outbound.stop_background()
		self.server.stop()


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
	parser = argparse.ArgumentParser(prog="python -m salesforce_connector.emulator", description=__doc__)
	parser.add_argument("--seed", choices=["none", "demo"], default="none", help="data to load at start")
	parser.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback by default)")
	parser.add_argument("--port", type=int, default=8443, help="port to listen on; 0 picks a free one")
	parser.add_argument("--tls", action="store_true", help="serve https with a self-signed certificate")
	parser.add_argument("--cert", type=Path, help="certificate PEM for --tls (default: made at start)")
	parser.add_argument("--key", type=Path, help="private key PEM for --cert")
	parser.add_argument(
		"--send-to",
		metavar="URL",
		help="send Outbound Messages for Accounts, Contacts, Leads and Opportunities here",
	)
	parser.add_argument("--org-id", help="organization Id (15 or 18 characters) instead of a made-up one")
	parser.add_argument(
		"--jwt-certificate", type=Path, help="certificate PEM of the Connected App, for the JWT bearer flow"
	)
	parser.add_argument("--daily-limit", type=int, default=15000, help="daily API call limit")
	parser.add_argument("-v", "--verbose", action="store_true")
	return parser.parse_args(argv)


def start(arguments: argparse.Namespace) -> Running:
	"""Build the org, load data, start the server (and the Outbound Message sender); does not block."""
	org = Org(
		org_id=arguments.org_id, clock=VirtualClock(running=True), daily_api_limit=arguments.daily_limit
	)
	# Salesforce never hands out an Id twice; an org started again with the same org Id must not
	# either, or a site that synced the last one would take new records for the ones it holds
	org.ids = IdFactory(start=secrets.randbelow(10**10))
	if arguments.jwt_certificate:
		org.connected_app.certificate_pem = arguments.jwt_certificate.read_text()
	context, certificate_file = _tls_context(arguments) if arguments.tls else (None, None)
	server = EmulatorServer(org, host=arguments.host, port=arguments.port, ssl_context=context)
	if arguments.send_to:
		# rules first, so the seeded records go out as if they had been entered after the rule existed
		for sobject, fields in OUTBOUND_FIELDS.items():
			org.outbound.add_rule(sobject, arguments.send_to, fields, name=f"{sobject} to ERPNext")
	if arguments.seed == "demo":
		seed_demo(org)
	server.start()
	if arguments.send_to:
		org.outbound.start_background(interval=1.0)
	return Running(org, server, certificate_file)


def describe(running: Running, arguments: argparse.Namespace) -> str:
	org, app, user = running.org, running.org.connected_app, running.org.integration_user
	lines = [
		f"Salesforce emulator listening on {running.server.url}",
		f"  org id            {org.org_id}",
		f"  consumer key      {app.consumer_key}",
		f"  consumer secret   {app.consumer_secret}",
		f"  username          {user.username}",
		f"  password          {user.password}",
		f"  security token    {user.security_token}",
		f"  login URL         {running.server.url}  (ClientSettings.login_url)",
	]
	if not org.connected_app.certificate_pem:
		lines.append("  JWT bearer flow   off (start with --jwt-certificate to turn it on)")
	if running.certificate_file:
		lines.append(
			f"  TLS certificate   {running.certificate_file}  (trust it: session.verify = this path)"
		)
	if arguments.send_to:
		lines.append(f"  Outbound Messages {arguments.send_to}")
	if arguments.seed == "demo":
		lines.append("  seeded            7 accounts, 7 contacts, 4 leads, 8 products, 7 opportunities")
	return "\n".join(lines)


def _tls_context(arguments: argparse.Namespace) -> tuple[ssl.SSLContext, Path]:
	context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
	if arguments.cert:
		context.load_cert_chain(arguments.cert, arguments.key)
		return context, arguments.cert

	directory = Path(tempfile.mkdtemp(prefix="salesforce-emulator-"))
	certificate_file, key_file = _self_signed_certificate(directory, arguments.host)
	context.load_cert_chain(certificate_file, key_file)
	return context, certificate_file


def _self_signed_certificate(directory: Path, host: str) -> tuple[Path, Path]:
	key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
	name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Salesforce emulator")])
	alternative_names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
	if host not in ("127.0.0.1", "localhost", "0.0.0.0"):
		alternative_names.append(x509.IPAddress(ipaddress.ip_address(host)))
	now = datetime.datetime.now(datetime.timezone.utc)
	certificate = (
		x509.CertificateBuilder()
		.subject_name(name)
		.issuer_name(name)
		.public_key(key.public_key())
		.serial_number(x509.random_serial_number())
		.not_valid_before(now - datetime.timedelta(minutes=5))
		.not_valid_after(now + datetime.timedelta(days=30))
		.add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
		.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
		.sign(key, hashes.SHA256())
	)
	certificate_file = directory / "emulator-cert.pem"
	key_file = directory / "emulator-key.pem"
	certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
	key_file.write_bytes(
		key.private_bytes(
			serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
		)
	)
	key_file.chmod(0o600)
	return certificate_file, key_file


def main(argv: list[str] | None = None, *, stop_event: threading.Event | None = None) -> int:
	arguments = parse_arguments(argv)
	logging.basicConfig(
		level=logging.DEBUG if arguments.verbose else logging.INFO, format="%(asctime)s %(name)s %(message)s"
	)
	running = start(arguments)
	print(describe(running, arguments), flush=True)

	waiting = stop_event or threading.Event()
	try:
		waiting.wait()
	except KeyboardInterrupt:
		pass
	finally:
		running.stop()
	return 0


if __name__ == "__main__":
	sys.exit(main())
