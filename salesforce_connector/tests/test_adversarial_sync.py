"""Processing under attack: Salesforce failing mid-job, records ERPNext cannot take as they are,
and Ids that differ only in case, with the local org on the other side of real HTTP.

The rule for each: what cannot be applied becomes a Failed (or Needs Review) row whose error says
why in words, a retryable failure gets a retry time, and nothing is written to the wrong record.
"""

import json
import re
import secrets
import threading
import time

import frappe

from salesforce_connector.constants import DUPLICATE, FAILED, NEEDS_REVIEW, SUCCESS, SYNC_LOG
from salesforce_connector.emulator.faults import (
	request_limit_exceeded,
	server_error,
	service_unavailable,
	session_expired,
	slow,
	unable_to_lock_row,
)
from salesforce_connector.emulator.ids import IdFactory, to_18
from salesforce_connector.salesforce_connector.doctype.salesforce_sync_log.salesforce_sync_log import (
	queue_again,
)
from salesforce_connector.services.inbound import process_notification
from salesforce_connector.tasks.inbound import process_sync_log
from salesforce_connector.tests.test_adversarial_inbound import message, new_id, notification
from salesforce_connector.tests.test_sales_flow import SalesforceOrgTestCase, random_mobile
from salesforce_connector.tests.utils import configure_connector, logs_for, make_item, process_queued


class ChosenIds(IdFactory):
	"""The org's own Id factory, except that the next Ids of some key prefixes are given."""

	def __init__(self, chosen: dict[str, list[str]]):
		super().__init__(start=secrets.randbelow(10**10))
		self.chosen = chosen

	def new_id(self, key_prefix: str) -> str:
		queue = self.chosen.get(key_prefix)
		return queue.pop(0) if queue else super().new_id(key_prefix)


def case_twin_account_ids() -> tuple[str, str]:
	"""Two Account Ids whose 15-character forms differ only in the case of their last letter."""
	digits = "".join(secrets.choice("0123456789") for _ in range(8))
	return to_18(f"0018e0{digits}Q"), to_18(f"0018e0{digits}q")


def row(record_id: str) -> frappe._dict:
	return frappe.get_doc(SYNC_LOG, logs_for(record_id)[-1].name)


class OpportunityTestCase(SalesforceOrgTestCase):
	def setUp(self):
		super().setUp()
		code = f"SHIRT-{self.token}"
		make_item(code, f"Cotton Shirt {self.token}")
		self.shirt = self.make_product(code, f"Cotton Shirt {self.token}", 450)
		self.account = self.make_account()

	def tearDown(self):
		self.org.faults.clear()
		super().tearDown()

	def queued_opportunity(self) -> str:
		opportunity = self.make_opportunity(self.account, [(self.shirt, 2, 450)])
		self.deliver()
		return opportunity

	def assert_failed_for_a_retry(self, record_id: str, words: str):
		failed = row(record_id)
		self.assertEqual(failed.status, FAILED, failed.error)
		self.assertIn(words, failed.error)
		self.assertTrue(failed.next_retry_at, failed.error)
		self.assertFalse(failed.traceback)
		self.assertEqual(self.quotations_for(record_id), [])


class TestSalesforceFaultsWhileProcessing(OpportunityTestCase):
	def test_session_expired_once_is_renewed_within_the_job(self):
		opportunity = self.queued_opportunity()
		self.org.faults.add("GET query*", session_expired(), times=1)

		process_queued([opportunity])

		self.assertEqual(row(opportunity).status, SUCCESS, row(opportunity).error)

	def test_session_expired_throughout_fails_for_a_later_retry(self):
		opportunity = self.queued_opportunity()
		self.org.faults.add("GET query*", session_expired(), times=1000)

		process_queued([opportunity])

		self.assert_failed_for_a_retry(opportunity, "will retry")

	def test_request_limit_exceeded_fails_for_a_later_retry(self):
		opportunity = self.queued_opportunity()
		self.org.faults.add("GET query*", request_limit_exceeded(), times=1000)

		process_queued([opportunity])

		self.assert_failed_for_a_retry(opportunity, "Limit exceeded")

	def test_unable_to_lock_row_twice_is_retried_within_the_job(self):
		opportunity = self.queued_opportunity()
		self.org.faults.add("GET query*", unable_to_lock_row(), times=2)

		process_queued([opportunity])

		self.assertEqual(row(opportunity).status, SUCCESS, row(opportunity).error)
		self.assertEqual(len(self.quotations_for(opportunity)), 1)

	def test_server_error_throughout_fails_for_a_later_retry(self):
		opportunity = self.queued_opportunity()
		self.org.faults.add("GET query*", server_error(), times=1000)

		process_queued([opportunity])

		self.assert_failed_for_a_retry(opportunity, "unexpected error occurred")

	def test_slow_salesforce_times_out_and_fails_for_a_later_retry(self):
		configure_connector(
			[self.org.org_id],
			auth_flow="Client Credentials",
			login_url=self.emulator.url,
			consumer_key=self.org.connected_app.consumer_key,
			consumer_secret=self.org.connected_app.consumer_secret,
			request_timeout=1,
		)
		opportunity = self.queued_opportunity()
		self.org.faults.add("GET query*", slow(3), times=1000)

		process_queued([opportunity])

		self.assert_failed_for_a_retry(opportunity, "did not answer in time")

	def test_login_unavailable_fails_for_a_later_retry(self):
		opportunity = self.queued_opportunity()
		self.org.faults.add("POST /services/oauth2/token", service_unavailable(), times=1000)

		process_queued([opportunity])

		self.assert_failed_for_a_retry(opportunity, "will retry")

	def test_salesforce_unreachable_at_login_fails_for_a_later_retry(self):
		opportunity = self.queued_opportunity()
		configure_connector(
			[self.org.org_id],
			auth_flow="Client Credentials",
			login_url="http://127.0.0.1:9",
			consumer_key=self.org.connected_app.consumer_key,
			consumer_secret=self.org.connected_app.consumer_secret,
		)

		process_queued([opportunity])

		self.assert_failed_for_a_retry(opportunity, "Cannot reach")

	def test_retry_after_salesforce_recovers_succeeds(self):
		opportunity = self.queued_opportunity()
		self.org.faults.add("GET query*", request_limit_exceeded(), times=1000)
		process_queued([opportunity])
		self.org.faults.clear()

		queue_again(frappe.get_doc(SYNC_LOG, row(opportunity).name))
		process_sync_log(row(opportunity).name)

		self.assertEqual(row(opportunity).status, SUCCESS, row(opportunity).error)


class TestOpportunitiesThatCannotBeQuoted(OpportunityTestCase):
	def test_deleted_opportunity_fails_in_words_without_a_quotation(self):
		opportunity = self.queued_opportunity()
		self.org.delete("Opportunity", opportunity)

		process_queued([opportunity])

		failed = row(opportunity)
		self.assertEqual(failed.status, FAILED)
		self.assertIn("deleted", failed.error)
		self.assertFalse(failed.traceback)
		self.assertEqual(self.quotations_for(opportunity), [])

	def test_opportunity_without_account_fails_naming_the_missing_account(self):
		opportunity = self.make_opportunity(None, [(self.shirt, 1, 450)])
		self.deliver()

		process_queued([opportunity])

		failed = row(opportunity)
		self.assertEqual(failed.status, FAILED)
		self.assertIn("Account", failed.error)
		self.assertEqual(self.quotations_for(opportunity), [])


class TestCustomersFromHardRecords(SalesforceOrgTestCase):
	def customer_of(self, record_id: str) -> frappe._dict:
		# a record created and changed before a delivery sends one version twice: Success, Duplicate
		done = row(record_id)
		self.assertIn(done.status, (SUCCESS, DUPLICATE), done.error)
		return frappe.get_doc("Customer", done.reference_name)

	def test_lead_converted_into_an_existing_account_keeps_the_account_name(self):
		account = self.make_account(Name=f"Kaveri Textiles Pvt Ltd {self.token}")
		self.deliver()
		process_queued([account])
		lead = self.org.create("Lead", {"Company": f"Kaveri Tex {self.token}", "LastName": "Rao"})
		self.org.convert_lead(lead, account_id=account, create_opportunity=False)

		self.deliver()
		process_queued([lead])

		self.assertEqual(self.customer_of(lead).customer_name, f"Kaveri Textiles Pvt Ltd {self.token}")

	def test_two_customers_sharing_a_phone_need_review(self):
		mobile = random_mobile()
		for suffix in ("A", "B"):
			customer = frappe.get_doc(
				{
					"doctype": "Customer",
					"customer_name": f"Phone Twin {suffix} {self.token}",
					"customer_group": frappe.db.get_value("Customer Group", {"is_group": 1}),
					"territory": frappe.db.get_value("Territory", {"is_group": 1}),
				}
			).insert()
			contact = frappe.get_doc({"doctype": "Contact", "first_name": f"Twin {suffix}"})
			contact.add_phone(f"+91{mobile}", is_primary_mobile_no=1)
			contact.append("links", {"link_doctype": "Customer", "link_name": customer.name})
			contact.insert()
		lead = self.org.create(
			"Lead", {"Company": f"Phone Firm {self.token}", "LastName": "Das", "Phone": mobile}
		)
		self.org.convert_lead(lead, create_opportunity=False)

		self.deliver()
		process_queued([lead])

		review = row(lead)
		self.assertEqual(review.status, NEEDS_REVIEW, review.error)
		self.assertIn(f"Phone Twin A {self.token}", review.error)
		self.assertIn(f"Phone Twin B {self.token}", review.error)

	def test_unicode_company_name_is_kept_as_written(self):
		name = f"ಕಾವೇರಿ ಟೆಕ್ಸ್‌ಟೈಲ್ಸ್ · Müller & Söhne 🧵 {self.token}"
		account = self.make_account(Name=name)

		self.deliver()
		process_queued([account])

		self.assertEqual(self.customer_of(account).customer_name, name)

	def test_company_name_longer_than_erpnext_allows_fails_in_words(self):
		account = self.make_account(Name=f"Very Long Name {self.token} " + "x" * 200)

		self.deliver()
		process_queued([account])

		failed = row(account)
		self.assertEqual(failed.status, FAILED)
		self.assertIn("140", failed.error)
		self.assertFalse(failed.traceback)

	def test_state_written_as_a_city_fails_naming_the_value(self):
		account = self.make_account(BillingState="Bombay", BillingCity="Mumbai")

		self.deliver()
		process_queued([account])

		failed = row(account)
		self.assertEqual(failed.status, FAILED)
		self.assertIn("Bombay", failed.error)
		self.assertFalse(frappe.db.exists("Customer", {"salesforce_account_id": account}))

	def test_session_id_the_org_sends_is_never_stored(self):
		rule = self.org.outbound.add_rule(
			"Account", self.site.endpoint, ["Name"], send_session_id=True, name=f"With session {self.token}"
		)
		try:
			account = self.make_account()
			deliveries = self.deliver()
			process_queued([account])
		finally:
			rule.active = False

		sent = next(d for d in deliveries if d.rule == rule.name).envelope.decode()
		session_id = re.search(r"<SessionId>([^<]+)</SessionId>", sent).group(1)
		stored = frappe.db.sql(
			f"select count(*) from `tab{SYNC_LOG}` where concat_ws('', payload, error, notes, traceback) like %s",
			f"%{session_id}%",
		)
		self.assertEqual(stored[0][0], 0)


class TestContactsWithForgedAccountIds(OpportunityTestCase):
	def test_account_id_that_is_a_path_reads_no_other_record(self):
		opportunity = self.make_opportunity(
			self.account, [(self.shirt, 1, 450)], Name=f"Secret Deal {self.token}"
		)
		contact = new_id("003")
		fields = f"<sf:AccountId>../Opportunity/{opportunity}</sf:AccountId><sf:LastName>Rao</sf:LastName>"
		body = message(
			notification(contact, fields, object_type="sf:Contact"), organization_id=self.org.org_id
		)
		self.assertEqual(self.site.post(body.encode()).status_code, 200)

		process_queued([contact])

		self.assertFalse(frappe.db.exists("Customer", {"customer_name": f"Secret Deal {self.token}"}))
		self.assertEqual(row(contact).status, FAILED)


class TestAccountIdsThatDifferOnlyInCase(OpportunityTestCase):
	"""In Salesforce, 001…Q and 001…q are two records; MariaDB's default collation ignores case."""

	def twin_accounts(self) -> tuple[str, str]:
		first_id, second_id = case_twin_account_ids()
		ids, self.org.ids = self.org.ids, ChosenIds({"001": [first_id, second_id]})
		try:
			first = self.make_account(Name=f"Upper Twin {self.token}", BillingStreet="1 Upper Street")
			second = self.make_account(Name=f"Lower Twin {self.token}", BillingStreet="2 Lower Street")
		finally:
			self.org.ids = ids
		self.deliver()
		process_queued([first, second])
		return first, second

	def address_lines_of(self, customer: str) -> list[str]:
		names = frappe.get_all(
			"Dynamic Link", filters={"link_name": customer, "parenttype": "Address"}, pluck="parent"
		)
		return sorted(frappe.get_all("Address", filters={"name": ["in", names]}, pluck="address_line1"))

	def test_each_twin_becomes_its_own_customer(self):
		first, second = self.twin_accounts()

		self.assertNotEqual(row(first).reference_name, row(second).reference_name)

	def test_each_twin_keeps_its_own_billing_address(self):
		first, second = self.twin_accounts()

		self.assertEqual(self.address_lines_of(row(first).reference_name), ["1 Upper Street"])
		self.assertEqual(self.address_lines_of(row(second).reference_name), ["2 Lower Street"])

	def test_opportunity_of_one_twin_is_quoted_to_that_twin(self):
		first, second = self.twin_accounts()
		frappe.get_doc("Customer", row(second).reference_name).save()  # the other twin is the newest edit

		opportunity = self.make_opportunity(first, [(self.shirt, 1, 450)])
		self.deliver()
		process_queued([opportunity])

		quotation = frappe.get_doc("Quotation", self.quotations_for(opportunity)[0])
		self.assertEqual(quotation.party_name, row(first).reference_name)


class TestTwoWorkersOnOneNewAccount(OpportunityTestCase):
	"""An Account and its Opportunity arrive together; two workers take the two rows at once.

	This test's own connection plays the worker on the Account row: it applies the Account and holds
	its transaction open while a second worker, on a thread of its own, processes the Opportunity.
	"""

	def process_in_another_worker(self, log_name: str) -> threading.Thread:
		site, sites_path = frappe.local.site, frappe.local.sites_path

		def work():
			frappe.init(site=site, sites_path=sites_path)
			frappe.connect()
			try:
				process_sync_log(log_name)
			finally:
				frappe.destroy()

		worker = threading.Thread(target=work)
		worker.start()
		return worker

	def wait_for_an_insert_to_wait(self, doctype: str):
		query = (
			"select count(*) from information_schema.processlist where id != connection_id() "
			"and command = 'Query' and info like %s"
		)
		for _ in range(300):
			if frappe.db.sql(query, (f"insert into `tab{doctype}`%",))[0][0]:
				return
			time.sleep(0.05)
		self.fail(f"the other worker never waited to insert a {doctype}")

	def test_opportunity_worker_racing_the_account_worker_ends_linked_or_retryable(self):
		account = self.make_account(Name=f"Race Textiles {self.token}")
		opportunity = self.make_opportunity(account, [(self.shirt, 1, 450)])
		self.deliver()
		account_fields = json.loads(frappe.db.get_value(SYNC_LOG, logs_for(account)[-1].name, "payload"))[
			"fields"
		]

		process_notification("Account", account_fields, None)  # the Account worker, not committed yet
		worker = self.process_in_another_worker(logs_for(opportunity)[-1].name)
		self.wait_for_an_insert_to_wait("Customer")
		frappe.db.commit()  # nosemgrep: the Account worker finishes first
		worker.join()

		frappe.db.commit()  # nosemgrep: a fresh snapshot
		done = row(opportunity)
		self.assertTrue(done.status == SUCCESS or done.next_retry_at, done.error)
		self.assertEqual(frappe.db.count("Customer", {"salesforce_account_id": account}), 1)
