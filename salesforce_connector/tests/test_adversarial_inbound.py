"""Hostile and odd deliveries to the Outbound Message endpoint, over real HTTP.

The rule for each: a message the endpoint cannot accept gets a SOAP fault (HTTP 500, text/xml) and
leaves no Sync Log row behind; one it accepts gets an Ack and exactly one row per notification; no
answer is a server error page, carries a traceback, or echoes a Session Id; nothing stores one.
"""

import json
import threading
import time
from datetime import timedelta

import requests
from defusedxml.ElementTree import fromstring

import frappe
from frappe.deferred_insert import save_to_db
from frappe.tests.utils import FrappeTestCase
from frappe.utils import now_datetime

from salesforce_connector.constants import FAILED, PROCESSING, QUEUED, SKIPPED, SUCCESS, SYNC_LOG
from salesforce_connector.core.outbound_message import OUTBOUND_NS, SOAP_ENVELOPE_NS, parse_outbound_message
from salesforce_connector.core.transforms import build_gstin
from salesforce_connector.salesforce_connector.doctype.salesforce_sync_log.salesforce_sync_log import (
	queue_again,
)
from salesforce_connector.services.sync_log import record_notifications
from salesforce_connector.tasks.inbound import process_due_logs
from salesforce_connector.tests.test_sales_flow import random_pan
from salesforce_connector.tests.utils import SiteServer, configure_connector, count, process_queued, run_token

ORG_ID = "00D8e0000000001"
ORG_ID_18 = "00D8e0000000001AAA"
SESSION_ID = "00D8e0000000001!AQEAQSessionSecretThatMustNeverBeStored"
ACK = f"{{{SOAP_ENVELOPE_NS}}}Body/{{{OUTBOUND_NS}}}notificationsResponse/{{{OUTBOUND_NS}}}Ack"
FAULT = f"{{{SOAP_ENVELOPE_NS}}}Body/{{{SOAP_ENVELOPE_NS}}}Fault/faultstring"
SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}


def new_id(prefix: str) -> str:
	return f"{prefix}8e{run_token()}{run_token()}{run_token()}"[:18]


def notification(
	record_id: str, fields: str = "", notification_id: str | None = None, object_type="sf:Account"
):
	return (
		f"<Notification><Id>{notification_id or new_id('04l')}</Id>"
		f'<sObject xsi:type="{object_type}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
		f"<sf:Id>{record_id}</sf:Id>{fields}</sObject></Notification>"
	)


def message(*notifications: str, organization_id: str = ORG_ID_18, session_id: str | None = None) -> str:
	session = f"<SessionId>{session_id}</SessionId>" if session_id else '<SessionId xsi:nil="true"/>'
	return (
		f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENVELOPE_NS}" '
		'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
		f'<notifications xmlns="{OUTBOUND_NS}"><OrganizationId>{organization_id}</OrganizationId>'
		f"<ActionId>04k8e0000000001AAA</ActionId>{session}"
		"<EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/62.0</EnterpriseUrl>"
		f"{''.join(notifications)}</notifications></soapenv:Body></soapenv:Envelope>"
	)


def account_message(account: str, fields: str, **kwargs) -> str:
	return message(notification(account, fields), **kwargs)


class AdversarialEndpointTestCase(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.server = SiteServer().start()

	@classmethod
	def tearDownClass(cls):
		cls.server.stop()
		super().tearDownClass()

	def setUp(self):
		configure_connector([ORG_ID])
		self.rows_before = count(SYNC_LOG)

	def post(self, body: str | bytes, **params) -> requests.Response:
		return self.server.post(body.encode() if isinstance(body, str) else body, **params)

	def assert_acked(self, response):
		self.assertEqual(response.status_code, 200, response.text[:500])
		self.assertTrue(response.headers["Content-Type"].startswith("text/xml"), response.headers)
		self.assertEqual(fromstring(response.content).find(ACK).text, "true")

	def assert_fault(self, response, reason_part: str = ""):
		"""A SOAP fault, not a server error page, and no traceback in it."""
		self.assertTrue(response.headers["Content-Type"].startswith("text/xml"), response.text[:500])
		self.assertEqual(response.status_code, 500, response.text[:500])
		self.assertIn(reason_part, fromstring(response.content).find(FAULT).text)
		self.assertNotIn("Traceback", response.text)

	def assert_nothing_recorded(self):
		self.assertEqual(count(SYNC_LOG), self.rows_before)

	def rows_of(self, record_id: str) -> list[dict]:
		return frappe.get_all(
			SYNC_LOG,
			filters={"salesforce_id": record_id},
			fields=["name", "status", "salesforce_object", "delivery_count", "error", "payload", "traceback"],
			order_by="creation asc",
		)


class TestMalformedMessages(AdversarialEndpointTestCase):
	def test_truncated_message_gets_a_fault_and_records_nothing(self):
		body = message(notification(new_id("001")))

		self.assert_fault(self.post(body[: len(body) - 40]), "not well-formed")
		self.assert_nothing_recorded()

	def test_soap_1_2_envelope_gets_a_fault_and_records_nothing(self):
		body = message(notification(new_id("001"))).replace(
			SOAP_ENVELOPE_NS, "http://www.w3.org/2003/05/soap-envelope"
		)

		self.assert_fault(self.post(body), "SOAP 1.1")
		self.assert_nothing_recorded()

	def test_notifications_in_another_namespace_get_a_fault(self):
		body = message(notification(new_id("001"))).replace(OUTBOUND_NS, "urn:not-salesforce")

		self.assert_fault(self.post(body), "no Salesforce notifications")
		self.assert_nothing_recorded()

	def test_external_dtd_gets_a_fault(self):
		body = '<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://127.0.0.1:9/x.dtd">' + message(
			notification(new_id("001"))
		)

		self.assert_fault(self.post(body), "DTD")
		self.assert_nothing_recorded()

	def test_xinclude_gets_a_fault_without_reading_the_file(self):
		include = '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd" parse="text"/>'

		response = self.post(account_message(new_id("001"), f"<sf:Name>{include}</sf:Name>"))

		self.assert_fault(response, "holds elements")
		self.assertNotIn("root:", response.text)
		self.assert_nothing_recorded()

	def test_deeply_nested_field_gets_a_fault(self):
		nested = "<a>" * 5000 + "x" + "</a>" * 5000

		self.assert_fault(self.post(account_message(new_id("001"), f"<sf:Name>{nested}</sf:Name>")))
		self.assert_nothing_recorded()

	def test_multi_byte_encoding_gets_a_fault(self):
		declaration = '<?xml version="1.0" encoding="Shift_JIS"?>'
		body = declaration + account_message(new_id("001"), "<sf:Name>日本</sf:Name>")

		self.assert_fault(self.post(body.encode("shift_jis")), "encoding")
		self.assert_nothing_recorded()

	def test_byte_order_mark_with_another_declared_encoding_gets_a_fault(self):
		declaration = '<?xml version="1.0" encoding="ISO-8859-1"?>'
		body = (
			b"\xef\xbb\xbf"
			+ (declaration + account_message(new_id("001"), "<sf:Name>Café</sf:Name>")).encode()
		)

		self.assert_fault(self.post(body), "byte-order mark")
		self.assert_nothing_recorded()

	def test_undeclared_latin_1_gets_a_fault(self):
		body = account_message(new_id("001"), "<sf:Name>Café</sf:Name>").encode("latin-1")

		self.assert_fault(self.post(body), "not well-formed")
		self.assert_nothing_recorded()

	def test_declared_latin_1_is_stored_as_the_same_text(self):
		record_id = new_id("001")
		declaration = '<?xml version="1.0" encoding="ISO-8859-1"?>'
		body = (declaration + account_message(record_id, "<sf:Name>Café</sf:Name>")).encode("latin-1")

		self.assert_acked(self.post(body))

		self.assertEqual(json.loads(self.rows_of(record_id)[0].payload)["fields"]["Name"], "Café")

	def test_one_hundred_and_one_notifications_get_a_fault(self):
		notifications = [notification(new_id("001")) for _ in range(101)]

		self.assert_fault(self.post(message(*notifications)), "more than 100")
		self.assert_nothing_recorded()

	def test_one_hundred_notifications_make_one_hundred_rows(self):
		record_ids = [new_id("001") for _ in range(100)]

		self.assert_acked(self.post(message(*(notification(each) for each in record_ids))))

		self.assertEqual(count(SYNC_LOG, {"salesforce_id": ["in", record_ids]}), 100)

	def test_object_type_without_prefix_is_recorded_as_that_object(self):
		record_id = new_id("001")

		self.assert_acked(self.post(message(notification(record_id, object_type="Account"))))

		row = self.rows_of(record_id)[0]
		self.assertEqual((row.salesforce_object, row.status), ("Account", QUEUED))

	def test_modstamp_out_of_range_is_acked_as_an_unknown_version(self):
		record_id = new_id("001")
		modstamp = "<sf:SystemModstamp>0001-01-01T00:00:00+01:00</sf:SystemModstamp>"

		self.assert_acked(self.post(account_message(record_id, modstamp)))

		self.assertFalse(frappe.db.get_value(SYNC_LOG, {"salesforce_id": record_id}, "salesforce_modstamp"))

	def test_overlong_notification_id_gets_a_fault(self):
		body = message(notification(new_id("001"), notification_id="04l" + "A" * 200))

		self.assert_fault(self.post(body), "not a Salesforce Id")
		self.assert_nothing_recorded()

	def test_overlong_object_type_gets_a_fault(self):
		body = message(notification(new_id("a0X"), object_type="sf:" + "Custom" * 30 + "__c"))

		self.assert_fault(self.post(body), "not an API name")
		self.assert_nothing_recorded()

	def test_notification_id_repeated_in_one_message_loses_no_record(self):
		first, second, repeated = new_id("001"), new_id("001"), new_id("04l")

		response = self.post(
			message(
				notification(first, notification_id=repeated), notification(second, notification_id=repeated)
			)
		)

		if response.status_code == 200:
			self.assertTrue(self.rows_of(first) and self.rows_of(second), "a record was dropped")
		else:
			self.assert_fault(response)
			self.assert_nothing_recorded()


class TestSenderChecks(AdversarialEndpointTestCase):
	def test_fifteen_character_organization_id_in_the_wrong_case_gets_a_fault(self):
		body = message(notification(new_id("001")), organization_id=ORG_ID.lower())

		self.assert_fault(self.post(body), "not allowed")
		self.assert_nothing_recorded()

	def test_eighteen_character_organization_id_against_fifteen_allowed_is_acked(self):
		self.assert_acked(self.post(message(notification(new_id("001")), organization_id=ORG_ID_18)))

	def test_fifteen_character_organization_id_against_eighteen_allowed_is_acked(self):
		configure_connector([ORG_ID_18])

		self.assert_acked(self.post(message(notification(new_id("001")), organization_id=ORG_ID)))

	def test_eighteen_character_organization_id_in_lower_case_is_acked(self):
		configure_connector([ORG_ID_18])

		self.assert_acked(self.post(message(notification(new_id("001")), organization_id=ORG_ID_18.lower())))

	def test_organization_id_with_an_allowed_prefix_and_a_long_tail_gets_a_fault(self):
		body = message(notification(new_id("001")), organization_id=ORG_ID + "X" * 200)

		self.assert_fault(self.post(body), "not a Salesforce Id")
		self.assert_nothing_recorded()

	def test_token_in_another_case_gets_a_fault(self):
		configure_connector([ORG_ID], endpoint_token="Correct-Horse-7")

		self.assert_fault(self.post(message(notification(new_id("001"))), token="correct-horse-7"), "token")
		self.assert_fault(self.post(message(notification(new_id("001"))), token="CORRECT-HORSE-7"), "token")
		self.assert_nothing_recorded()

	def test_token_given_twice_gets_a_soap_answer(self):
		configure_connector([ORG_ID], endpoint_token="Correct-Horse-7")

		response = self.post(message(notification(new_id("001"))), token=["wrong", "Correct-Horse-7"])

		self.assert_fault(response, "token")

	def test_fault_for_a_wrong_token_echoes_neither_session_id_nor_token(self):
		configure_connector([ORG_ID], endpoint_token="Correct-Horse-7")

		response = self.post(message(notification(new_id("001")), session_id=SESSION_ID), token="wrong")

		self.assert_fault(response, "token")
		self.assertNotIn(SESSION_ID, response.text)
		self.assertNotIn("Correct-Horse-7", response.text)

	def test_session_id_of_an_accepted_message_is_not_stored(self):
		record_id = new_id("001")

		self.assert_acked(self.post(message(notification(record_id), session_id=SESSION_ID)))

		self.assertNotIn("SessionSecret", frappe.as_json(self.rows_of(record_id)))


class TestConcurrentDeliveries(AdversarialEndpointTestCase):
	"""Salesforce retries a message it got no Ack for, so a retry may overlap the first delivery.

	Where timing matters, this test's own database connection plays the first delivery: it records
	the notifications and holds its transaction open until the redeliveries wait on its rows.
	"""

	THREADS = 12

	def deliver_in_parallel(self, body: bytes, threads: int = THREADS) -> list[requests.Response]:
		frappe.db.commit()  # nosemgrep: the server's connections see committed rows only
		barrier = threading.Barrier(threads)
		responses: list[requests.Response] = []

		def send():
			barrier.wait()
			responses.append(requests.post(self.server.endpoint, data=body, headers=SOAP_HEADERS, timeout=90))

		workers = [threading.Thread(target=send) for _ in range(threads)]
		for worker in workers:
			worker.start()
		for worker in workers:
			worker.join()
		frappe.db.commit()  # nosemgrep: see what the requests wrote
		return responses

	def redeliver_during_first_delivery(self, body: str, redeliveries: int, *, first_commits: bool):
		"""Record `body` here without committing, post it `redeliveries` times, then end this delivery."""
		frappe.db.commit()  # nosemgrep: start the first delivery's transaction clean
		record_notifications(parse_outbound_message(body.encode()))
		responses: list[requests.Response] = []

		def send():
			responses.append(requests.post(self.server.endpoint, data=body, headers=SOAP_HEADERS, timeout=90))

		workers = [threading.Thread(target=send) for _ in range(redeliveries)]
		for worker in workers:
			worker.start()
		self.wait_for_lock_waits(redeliveries)
		if first_commits:
			frappe.db.commit()  # nosemgrep: the first delivery ends well
		else:
			frappe.db.rollback()  # the first delivery fails after recording, as a lost connection would
		for worker in workers:
			worker.join()
		frappe.db.commit()  # nosemgrep: a fresh snapshot
		return responses

	def wait_for_lock_waits(self, expected: int):
		# the redeliveries' statements on the Sync Log, waiting on the server's connections
		query = (
			"select count(*) from information_schema.processlist where id != connection_id() "
			"and command = 'Query' and (info like %s or info like %s)"
		)
		patterns = (f"insert into `tab{SYNC_LOG}`%", f"update `tab{SYNC_LOG}`%")
		for _ in range(200):
			if frappe.db.sql(query, patterns)[0][0] >= expected:
				return
			time.sleep(0.05)
		self.fail(f"{expected} redeliveries never waited on the first delivery's rows")

	def test_parallel_deliveries_make_one_row_per_notification(self):
		record_ids = [new_id("001") for _ in range(3)]

		self.deliver_in_parallel(message(*(notification(each) for each in record_ids)).encode())

		self.assertEqual([len(self.rows_of(each)) for each in record_ids], [1, 1, 1])

	def test_redelivery_waiting_behind_the_first_delivery_is_counted(self):
		record_id = new_id("001")

		self.redeliver_during_first_delivery(account_message(record_id, ""), 1, first_commits=True)

		self.assertEqual([row.delivery_count for row in self.rows_of(record_id)], [2])

	def test_redeliveries_waiting_behind_a_failed_first_delivery_all_get_a_soap_ack(self):
		responses = self.redeliver_during_first_delivery(
			account_message(new_id("001"), ""), 2, first_commits=False
		)

		for response in responses:
			self.assert_acked(response)

	def test_redeliveries_waiting_behind_a_failed_first_delivery_leave_one_row(self):
		record_id = new_id("001")

		self.redeliver_during_first_delivery(account_message(record_id, ""), 2, first_commits=False)

		self.assertEqual(len(self.rows_of(record_id)), 1)

	def test_redelivery_that_loses_a_deadlock_stores_no_session_id(self):
		session_id = f"{SESSION_ID}{run_token()}"
		body = account_message(new_id("001"), "", session_id=session_id)

		self.redeliver_during_first_delivery(body, 2, first_commits=False)

		save_to_db()
		frappe.db.commit()  # nosemgrep: see what the deferred insert wrote
		self.assertEqual(frappe.db.count("Error Log", {"error": ["like", f"%{session_id}%"]}), 0)


class TestHandMadeRecords(AdversarialEndpointTestCase):
	"""Records no org would send as they are, processed as a worker would."""

	def test_converted_lead_without_company_or_name_fails_in_words(self):
		lead = new_id("00Q")
		fields = f"<sf:IsConverted>true</sf:IsConverted><sf:ConvertedAccountId>{new_id('001')}</sf:ConvertedAccountId>"

		self.assert_acked(self.post(message(notification(lead, fields, object_type="sf:Lead"))))
		process_queued([lead])

		row = self.rows_of(lead)[0]
		self.assertEqual(row.status, FAILED)
		self.assertIn("no company or person name", row.error)

	def test_nil_name_on_an_account_update_keeps_the_customer_name(self):
		account, name = new_id("001"), f"Nil Test {run_token()}"
		stamp = "<sf:SystemModstamp>2026-01-05T10:00:{0}.000Z</sf:SystemModstamp>"
		self.post(account_message(account, f"<sf:Name>{name}</sf:Name>" + stamp.format("00")))
		process_queued([account])

		self.assert_acked(
			self.post(account_message(account, '<sf:Name xsi:nil="true"/>' + stamp.format("30")))
		)
		process_queued([account])

		self.assertEqual([row.status for row in self.rows_of(account)], [SUCCESS, SUCCESS])
		self.assertEqual(
			frappe.db.get_value("Customer", {"salesforce_account_id": account}, "customer_name"), name
		)

	def test_unknown_object_is_skipped_on_arrival(self):
		record_id = new_id("a0X")

		self.assert_acked(self.post(message(notification(record_id, object_type="sf:Invoice__c"))))

		self.assertEqual(self.rows_of(record_id)[0].status, SKIPPED)

	def test_lower_case_gstin_with_spaces_is_stored_normalised(self):
		account, gstin = new_id("001"), build_gstin("27", random_pan())
		typed = f" {gstin[:2]} {gstin[2:7].lower()} {gstin[7:12].lower()} {gstin[12:].lower()} "
		fields = f"<sf:Name>Spaced {run_token()}</sf:Name><sf:GSTIN__c>{typed}</sf:GSTIN__c>"

		self.post(account_message(account, fields))
		process_queued([account])

		self.assertEqual(self.rows_of(account)[0].status, SUCCESS, self.rows_of(account)[0].error)
		self.assertEqual(frappe.db.get_value("Customer", {"salesforce_account_id": account}, "tax_id"), gstin)

	def test_older_account_version_after_a_newer_one_is_skipped_as_stale(self):
		account, token = new_id("001"), run_token()
		newer = (
			f"<sf:Name>New {token}</sf:Name><sf:SystemModstamp>2026-01-05T10:05:00.000Z</sf:SystemModstamp>"
		)
		older = (
			f"<sf:Name>Old {token}</sf:Name><sf:SystemModstamp>2026-01-05T10:00:00.000Z</sf:SystemModstamp>"
		)
		self.post(account_message(account, newer))
		self.post(account_message(account, older))

		process_queued([account])

		self.assertEqual([row.status for row in self.rows_of(account)], [SUCCESS, SKIPPED])
		self.assertEqual(
			frappe.db.get_value("Customer", {"salesforce_account_id": account}, "customer_name"),
			f"New {token}",
		)

	def test_row_left_processing_by_a_dead_worker_is_queued_again_by_the_sweep(self):
		account = new_id("001")
		self.post(account_message(account, f"<sf:Name>Stuck {run_token()}</sf:Name>"))
		name = self.rows_of(account)[0].name
		frappe.db.set_value(
			SYNC_LOG,
			name,
			{"status": PROCESSING, "modified": now_datetime() - timedelta(hours=1)},
			update_modified=False,
		)

		process_due_logs()
		process_queued([account])

		self.assertEqual(frappe.db.get_value(SYNC_LOG, name, "status"), SUCCESS)

	def test_failure_with_a_very_long_reason_still_fails_the_row(self):
		account = new_id("001")
		self.post(account_message(account, f"<sf:Name>{'Long Name ' * 7000}</sf:Name>"))

		try:
			process_queued([account])
		except Exception:
			frappe.db.rollback()  # a worker logs the job's exception and takes the next job
			frappe.set_user("Administrator")

		failed = self.rows_of(account)[0]
		self.assertEqual(failed.status, FAILED)
		self.assertIn("Customer Name", failed.error)


class TestIntegrationUserWithoutPermissions(AdversarialEndpointTestCase):
	def setUp(self):
		super().setUp()
		self.user = f"no-roles-{run_token().lower()}@example.com"
		frappe.get_doc(
			{"doctype": "User", "email": self.user, "first_name": "No Roles", "send_welcome_email": 0}
		).insert(ignore_permissions=True)
		configure_connector([ORG_ID], integration_user=self.user)

	def test_row_fails_in_words_naming_the_user(self):
		account = new_id("001")
		self.post(account_message(account, f"<sf:Name>Locked Out {run_token()}</sf:Name>"))

		process_queued([account])

		row = self.rows_of(account)[0]
		self.assertEqual(row.status, FAILED)
		self.assertIn(self.user, row.error)
		self.assertNotIn("Traceback", row.error)

	def test_retry_succeeds_once_the_user_has_the_role(self):
		account = new_id("001")
		self.post(account_message(account, f"<sf:Name>Let In {run_token()}</sf:Name>"))
		process_queued([account])

		frappe.get_doc("User", self.user).add_roles("Sales Manager", "Sales User", "Sales Master Manager")
		queue_again(frappe.get_doc(SYNC_LOG, self.rows_of(account)[0].name))
		process_queued([account])

		self.assertEqual(self.rows_of(account)[0].status, SUCCESS)
