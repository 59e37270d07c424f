"""The command-line emulator and its demo data."""

import collections
import subprocess
import sys

import pytest
import requests
from stdnum.in_ import gstin

from salesforce_connector.core.client import ClientSettings, SalesforceClient
from salesforce_connector.emulator import Org, ids
from salesforce_connector.emulator.cli import describe, parse_arguments, start
from salesforce_connector.emulator.seed import make_gstin, seed_demo
from tests.conftest import OutboundReceiver


@pytest.fixture
def launch():
	started = []

	def run(*argv: str):
		arguments = parse_arguments(["--port", "0", *argv])
		running = start(arguments)
		started.append(running)
		return running, arguments

	yield run
	for running in started:
		running.stop()


def local_session(verify=True) -> requests.Session:
	session = requests.Session()
	session.trust_env = False
	session.verify = verify
	return session


def client_for(running, session: requests.Session) -> SalesforceClient:
	app, user = running.org.connected_app, running.org.integration_user
	settings = ClientSettings(
		auth_flow="password",
		consumer_key=app.consumer_key,
		consumer_secret=app.consumer_secret,
		username=user.username,
		password=user.password,
		security_token=user.security_token,
		login_url=running.server.url,
		retry_attempts=1,
	)
	return SalesforceClient(settings, session)


def test_printed_credentials_log_in_and_read_the_demo_data(launch):
	running, _ = launch("--seed", "demo")

	client = client_for(running, local_session())

	assert client.count("SELECT COUNT() FROM Opportunity WHERE IsWon = true") == 2


def test_description_names_url_org_and_credentials(launch):
	running, arguments = launch()

	text = describe(running, arguments)

	assert running.server.url in text
	assert running.org.org_id in text
	assert running.org.connected_app.consumer_secret in text
	assert running.org.integration_user.security_token in text


def test_tls_serves_with_a_certificate_the_client_can_trust(launch):
	running, _ = launch("--tls", "--seed", "demo")

	client = client_for(running, local_session(verify=str(running.certificate_file)))

	assert running.server.url.startswith("https://")
	assert client.test_connection().ok


def test_tls_certificate_is_not_trusted_by_default(launch):
	running, _ = launch("--tls")

	with pytest.raises(requests.exceptions.SSLError):
		local_session().get(f"{running.server.url}/services/data/", timeout=5)


def test_given_org_id_is_used(launch):
	running, _ = launch("--org-id", "00D5g000004VbcdEAC")

	assert running.org.org_id == "00D5g000004VbcdEAC"


def test_send_to_delivers_outbound_messages_for_changes():
	receiver = OutboundReceiver(None)
	arguments = parse_arguments(["--port", "0", "--send-to", receiver.url])
	running = start(arguments)
	try:
		running.org.create("Account", {"Name": "Vayu Pumps"})
		assert receiver.received.wait(timeout=10)
	finally:
		running.stop()
		receiver.stop()

	assert b"<sf:Name>Vayu Pumps</sf:Name>" in receiver.bodies[0]


def test_module_runs_and_prints_its_url():
	process = subprocess.Popen(
		[sys.executable, "-m", "salesforce_connector.emulator", "--port", "0"],
		stdout=subprocess.PIPE,
		stderr=subprocess.DEVNULL,
		text=True,
	)
	try:
		first_line = process.stdout.readline()
	finally:
		process.terminate()
		process.wait(timeout=10)

	assert first_line.startswith("Salesforce emulator listening on http://127.0.0.1:")


# the demo data


@pytest.fixture(scope="module")
def demo() -> tuple[Org, dict]:
	org = Org()
	return org, seed_demo(org)


def test_every_demo_account_has_a_valid_gstin_of_its_state(demo):
	org, _ = demo
	state_of_code = {
		"27": "Maharashtra",
		"33": "Tamil Nadu",
		"24": "Gujarat",
		"36": "Telangana",
		"32": "Kerala",
		"19": "West Bengal",
		"29": "Karnataka",
	}

	for account in org.rows("Account"):
		assert gstin.is_valid(account["GSTIN__c"]), account["Name"]
		assert state_of_code[account["GSTIN__c"][:2]] == account["BillingState"]


def test_demo_org_has_the_written_back_fields_typed_as_an_admin_creates_them(demo):
	org, made = demo

	def type_of(sobject: str, name: str) -> str:
		return org.schema.get(sobject).fields[name.lower()].type

	assert type_of("Opportunity", "Percent_Billed__c") == "percent"
	assert type_of("Opportunity", "Outstanding_Amount__c") == "currency"
	assert type_of("Opportunity", "Last_Payment_Date__c") == "date"
	assert type_of("Account", "Total_Outstanding__c") == "currency"
	opportunity = made["opportunities"][0]
	org.update("Opportunity", opportunity, {"Percent_Billed__c": 50, "Last_Payment_Date__c": "2026-04-01"})
	assert org.find("Opportunity", opportunity)["Percent_Billed__c"] == 50.0


def test_demo_opportunities_cover_several_stages(demo):
	org, _ = demo
	stages = collections.Counter(row["StageName"] for row in org.rows("Opportunity"))

	assert len(stages) >= 5
	assert stages["Closed Won"] == 2


def test_demo_amounts_are_the_sums_of_their_lines(demo):
	org, _ = demo
	for opportunity in org.rows("Opportunity"):
		lines = [row for row in org.rows("OpportunityLineItem") if row["OpportunityId"] == opportunity["Id"]]
		if lines:
			assert opportunity["Amount"] == round(sum(line["TotalPrice"] for line in lines), 2)


def test_demo_products_have_codes_and_standard_prices(demo):
	org, made = demo
	priced = {
		row["Product2Id"]
		for row in org.rows("PricebookEntry")
		if row["Pricebook2Id"] == org.standard_pricebook_id
	}

	assert set(made["products"].values()) == priced
	assert all(row["ProductCode"] for row in org.rows("Product2"))


def test_demo_contacts_belong_to_accounts(demo):
	org, _ = demo

	assert all(ids.is_valid_id(row["AccountId"]) for row in org.rows("Contact"))


def test_make_gstin_computes_the_check_character():
	assert make_gstin("27", "AAPFU0939F") == "27AAPFU0939F1ZV"
