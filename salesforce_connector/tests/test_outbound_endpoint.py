"""The endpoint over real HTTP: the shared fixtures, redeliveries, and input that must be refused."""

import json

from defusedxml.ElementTree import fromstring

import frappe
from frappe.tests.utils import FrappeTestCase

from salesforce_connector.constants import SETTINGS, SKIPPED, SYNC_LOG
from salesforce_connector.core.outbound_message import OUTBOUND_NS, SOAP_ENVELOPE_NS
from salesforce_connector.tests.utils import (
	FIXTURES,
	SiteServer,
	configure_connector,
	count,
	delete_logs_of_notifications,
	logs_for,
	process_queued,
	run_token,
)

LEAD_FIXTURE_ORG = "0123456789ABCDE"
CONTACT_FIXTURE_ORG = "012345678901234"
LEAD_NOTIFICATIONS = ["04l37000000L0E5AAK", "14l37000123L0E5AAK", "24l37123450L0E5AAK"]
CONTACT_NOTIFICATIONS = ["04l1I000000fztEQAQ", "04l1I000000fzt9QAA"]
ACK = f"{{{SOAP_ENVELOPE_NS}}}Body/{{{OUTBOUND_NS}}}notificationsResponse/{{{OUTBOUND_NS}}}Ack"
FAULT = f"{{{SOAP_ENVELOPE_NS}}}Body/{{{SOAP_ENVELOPE_NS}}}Fault/faultstring"
WATCHED_DOCTYPES = ("Customer", "Contact", "Address", "Quotation", "Sales Order", SYNC_LOG)


def opportunity_message(
	organization_id: str, notification_id: str, record_id: str, object_type="Opportunity"
):
	return (
		f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAP_ENVELOPE_NS}" '
		'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
		f'<notifications xmlns="{OUTBOUND_NS}"><OrganizationId>{organization_id}</OrganizationId>'
		'<ActionId>04k000000000001AAA</ActionId><SessionId xsi:nil="true"/>'
		"<EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/62.0</EnterpriseUrl>"
		"<PartnerUrl>https://example.my.salesforce.com/services/Soap/u/62.0</PartnerUrl>"
		f"<Notification><Id>{notification_id}</Id>"
		f'<sObject xsi:type="sf:{object_type}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
		f"<sf:Id>{record_id}</sf:Id><sf:SystemModstamp>2026-01-05T10:00:00.000Z</sf:SystemModstamp>"
		"</sObject></Notification></notifications></soapenv:Body></soapenv:Envelope>"
	).encode()


class TestOutboundEndpoint(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.server = SiteServer().start()

	@classmethod
	def tearDownClass(cls):
		cls.server.stop()
		super().tearDownClass()

	def setUp(self):
		configure_connector([LEAD_FIXTURE_ORG, CONTACT_FIXTURE_ORG, "00D000000000001AAA"])
		delete_logs_of_notifications(LEAD_NOTIFICATIONS + CONTACT_NOTIFICATIONS)

	def counts(self) -> dict:
		return {doctype: count(doctype) for doctype in WATCHED_DOCTYPES}

	def assert_acked(self, response):
		self.assertEqual(response.status_code, 200, response.text)
		self.assertTrue(response.headers["Content-Type"].startswith("text/xml"))
		self.assertEqual(fromstring(response.content).find(ACK).text, "true")

	def assert_fault(self, response, reason_part: str):
		self.assertEqual(response.status_code, 500, response.text)
		self.assertTrue(response.headers["Content-Type"].startswith("text/xml"))
		self.assertIn(reason_part, fromstring(response.content).find(FAULT).text)

	def test_lead_fixture_with_bom_is_acked_and_unknown_types_are_skipped(self):
		before = self.counts()

		response = self.server.post((FIXTURES / "lead-three-notifications-bom.xml").read_bytes())

		self.assert_acked(response)
		rows = frappe.get_all(
			SYNC_LOG,
			filters={"notification_id": ["in", LEAD_NOTIFICATIONS]},
			fields=["status", "salesforce_object", "error", "payload"],
			order_by="notification_id asc",
		)
		self.assertEqual([row.salesforce_object for row in rows], ["Lead1", "Lead2", "Lead3"])
		self.assertEqual({row.status for row in rows}, {SKIPPED})
		self.assertIn("not an object the connector handles", rows[0].error)
		self.assertEqual(count("Customer"), before["Customer"])

	def test_session_id_is_never_stored(self):
		body = (FIXTURES / "lead-three-notifications-bom.xml").read_bytes()
		session_id = "0123456789ABCDE!BSGSRAzG9lPxyKRPjJ3"

		self.assert_acked(self.server.post(body))

		payloads = frappe.get_all(
			SYNC_LOG, filters={"notification_id": ["in", LEAD_NOTIFICATIONS]}, pluck="payload"
		)
		self.assertEqual(len(payloads), 3)
		self.assertFalse(any(session_id in payload for payload in payloads))
		stored = frappe.db.sql(
			f"select count(*) from `tab{SYNC_LOG}` where payload like %s", f"%{session_id}%"
		)
		self.assertEqual(stored[0][0], 0)

	def test_empty_notifications_fixture_gets_a_fault_and_creates_nothing(self):
		before = self.counts()

		response = self.server.post((FIXTURES / "empty-notifications-bom.xml").read_bytes())

		self.assert_fault(response, "OrganizationId")
		self.assertEqual(self.counts(), before)

	def test_contact_fixture_records_both_and_parks_contacts_without_account(self):
		before_customers = count("Customer")

		response = self.server.post((FIXTURES / "contact-two-notifications.xml").read_bytes())
		process_queued(["0031I0000081tbPQAQ", "0031I0000081tb0QAA"])

		self.assert_acked(response)
		rows = frappe.get_all(
			SYNC_LOG, filters={"notification_id": ["in", CONTACT_NOTIFICATIONS]}, fields=["status", "error"]
		)
		self.assertEqual(len(rows), 2)
		self.assertEqual({row.status for row in rows}, {SKIPPED})
		self.assertTrue(all("Parked" in row.error for row in rows))
		self.assertEqual(count("Customer"), before_customers)

	def test_redelivered_notification_is_counted_not_recorded_again(self):
		body = (FIXTURES / "contact-two-notifications.xml").read_bytes()

		for _ in range(3):
			self.assert_acked(self.server.post(body))

		rows = frappe.get_all(
			SYNC_LOG,
			filters={"notification_id": ["in", CONTACT_NOTIFICATIONS]},
			fields=["delivery_count"],
		)
		self.assertEqual([row.delivery_count for row in rows], [3, 3])

	def test_not_xml_gets_a_fault(self):
		before = self.counts()

		self.assert_fault(self.server.post(b"hello, this is not xml"), "not well-formed XML")
		self.assertEqual(self.counts(), before)

	def test_entity_declaration_gets_a_fault(self):
		before = self.counts()
		body = (
			b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
			b"<soapenv:Envelope xmlns:soapenv='http://schemas.xmlsoap.org/soap/envelope/'>&e;</soapenv:Envelope>"
		)

		self.assert_fault(self.server.post(body), "DTD or entity")
		self.assertEqual(self.counts(), before)

	def test_billion_laughs_gets_a_fault(self):
		before = self.counts()
		levels = ['<!ENTITY a0 "ha">'] + [
			f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
		]
		body = f'<?xml version="1.0"?><!DOCTYPE l [{"".join(levels)}]><l>&a9;</l>'.encode()

		self.assert_fault(self.server.post(body), "DTD or entity")
		self.assertEqual(self.counts(), before)

	def test_twenty_megabyte_body_gets_a_fault(self):
		before = self.counts()
		padding = b"<!-- " + b"x" * (20 * 1024 * 1024) + b" -->"
		body = opportunity_message(
			"00D000000000001AAA", "04l" + run_token() + "000000001", "006000000000001AAA"
		)

		self.assert_fault(self.server.post(body + padding), "larger than")
		self.assertEqual(self.counts(), before)

	def test_wrong_organization_gets_a_fault(self):
		before = self.counts()
		body = opportunity_message(
			"00D999999999999AAA", "04l" + run_token() + "000000002", "006000000000001AAA"
		)

		self.assert_fault(self.server.post(body), "not allowed")
		self.assertEqual(self.counts(), before)

	def test_missing_notification_id_gets_a_fault(self):
		before = self.counts()
		body = opportunity_message("00D000000000001AAA", "", "006000000000001AAA")

		self.assert_fault(self.server.post(body), "no Id")
		self.assertEqual(self.counts(), before)

	def test_unknown_object_type_is_acked_and_skipped(self):
		record_id = "a0B" + run_token() + "000000001"
		before = count("Customer")

		self.assert_acked(
			self.server.post(
				opportunity_message(
					"00D000000000001AAA", "04l" + run_token() + "000000003", record_id, "Invoice__c"
				)
			)
		)

		self.assertEqual([row.status for row in logs_for(record_id)], [SKIPPED])
		self.assertEqual(count("Customer"), before)

	def test_disabled_integration_gets_a_fault(self):
		frappe.db.set_single_value(SETTINGS, "enabled", 0)
		frappe.db.commit()  # nosemgrep: read by the web server's connection
		before = self.counts()
		body = opportunity_message(
			"00D000000000001AAA", "04l" + run_token() + "000000004", "006000000000001AAA"
		)

		self.assert_fault(self.server.post(body), "disabled")
		self.assertEqual(self.counts(), before)

	def test_endpoint_token_is_required_when_set(self):
		configure_connector(["00D000000000001AAA"], endpoint_token="correct-horse")
		body_for = lambda: opportunity_message(  # noqa: E731
			"00D000000000001AAA", "04l" + run_token() + "000000005", "006" + run_token() + "000000005"
		)

		self.assert_fault(self.server.post(body_for()), "token")
		self.assert_fault(self.server.post(body_for(), token="wrong"), "token")
		self.assert_acked(self.server.post(body_for(), token="correct-horse"))

	def test_get_is_refused(self):
		import requests

		response = requests.get(self.server.endpoint, timeout=30)

		self.assertNotEqual(response.status_code, 200)

	def test_payload_keeps_what_retry_needs(self):
		record_id = "a0C" + run_token() + "000000006"
		body = opportunity_message(
			"00D000000000001AAA", "04l" + run_token() + "000000006", record_id, "Thing__c"
		)

		self.assert_acked(self.server.post(body))

		payload = json.loads(frappe.db.get_value(SYNC_LOG, {"salesforce_id": record_id}, "payload"))
		self.assertEqual(payload["fields"]["Id"], record_id)
		self.assertEqual(payload["object_type"], "Thing__c")
