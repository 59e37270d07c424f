"""Polling on a real site, with Outbound Messages switched off in the local org.

A test does what the scheduler and a worker do: it calls the every-minute task, then processes the
rows the poll queued. The org's clock is set by hand, so that "a record committed late" is a record
whose SystemModstamp lies behind the watermark of a poll that has already run.
"""

import json
from datetime import datetime, timedelta, timezone

import frappe
from frappe.utils import now_datetime

from salesforce_connector.constants import SETTINGS, SUCCESS, SYNC_LOG
from salesforce_connector.emulator.faults import service_unavailable
from salesforce_connector.services.polling import poll_changes
from salesforce_connector.tasks.polling import poll_if_due
from salesforce_connector.tests.test_sales_flow import SalesforceOrgTestCase
from salesforce_connector.tests.utils import make_item, process_queued

INTERVAL_MINUTES = 5


def inbound_rows(salesforce_id: str) -> list[dict]:
	return frappe.get_all(
		SYNC_LOG,
		filters={"salesforce_id": salesforce_id, "direction": "Inbound"},
		fields=["name", "status", "payload"],
		order_by="creation asc",
	)


class TestPolling(SalesforceOrgTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		for rule in cls.rules.values():
			rule.active = False

	def setUp(self):
		super().setUp()
		settings = frappe.get_doc(SETTINGS)
		settings.update(
			{
				"polling_enabled": 1,
				"polling_interval": INTERVAL_MINUTES,
				"polling_overlap": 600,
				"polling_watermarks": None,
				"last_polled_at": None,
			}
		)
		settings.save(ignore_permissions=True)
		frappe.db.commit()  # nosemgrep: the task reads Settings fresh
		self.org.clock.set(datetime.now(timezone.utc))
		self.shirt_code = f"SHIRT-{self.token}"
		make_item(self.shirt_code, f"Cotton Shirt {self.token}")
		self.shirt = self.make_product(self.shirt_code, f"Cotton Shirt {self.token}", 450)

	def tearDown(self):
		frappe.db.set_single_value(SETTINGS, "polling_enabled", 0)
		frappe.db.commit()  # nosemgrep: other tests run with polling off
		super().tearDown()

	def one_interval_later(self) -> None:
		"""What the passing of one interval means to the task: its last poll is that long ago."""
		last = frappe.db.get_single_value(SETTINGS, "last_polled_at")
		frappe.db.set_single_value(SETTINGS, "last_polled_at", last - timedelta(minutes=INTERVAL_MINUTES))
		frappe.db.commit()  # nosemgrep: the task reads Settings fresh

	def watermark(self, salesforce_object: str) -> str:
		return json.loads(frappe.db.get_single_value(SETTINGS, "polling_watermarks"))[salesforce_object]

	def test_a_change_in_salesforce_reaches_erpnext_within_one_interval(self):
		deal = self.make_opportunity(self.make_account(), [(self.shirt, 2, 450)])
		poll_if_due()
		process_queued()
		self.assertEqual(len(self.quotations_for(deal)), 1)

		self.org.clock.advance(seconds=60)
		self.org.update("Opportunity", deal, {"Name": f"Uniforms, revised {self.token}"})
		poll_if_due()
		self.assertEqual(len(inbound_rows(deal)), 1, "polled again before the interval was over")

		self.one_interval_later()
		poll_if_due()
		process_queued()

		self.assertEqual(
			frappe.db.get_value("Quotation", self.quotations_for(deal)[0], "title"),
			f"Uniforms, revised {self.token}",
		)
		self.assertEqual([row.status for row in inbound_rows(deal)], [SUCCESS, SUCCESS])

	def test_a_record_committed_late_inside_the_overlap_is_taken_once_and_nothing_twice(self):
		start = self.org.clock.now()
		account = self.make_account()
		early = self.make_opportunity(account, [(self.shirt, 1, 450)])
		self.org.clock.set(start + timedelta(seconds=120))
		newest = self.make_opportunity(account, [(self.shirt, 2, 450)])
		poll_if_due()
		process_queued()
		watermark = self.watermark("Opportunity")

		# saved at start + 60 s, committed only now: behind the watermark, inside the overlap
		self.org.clock.set(start + timedelta(seconds=60))
		late = self.make_opportunity(account, [(self.shirt, 3, 450)])
		self.org.clock.set(start + timedelta(seconds=300))
		self.one_interval_later()
		poll_if_due()
		process_queued()

		self.assertLess(
			self.org.find("Opportunity", late)["SystemModstamp"].strftime("%Y-%m-%dT%H:%M:%SZ"), watermark
		)
		self.assertEqual([row.status for row in inbound_rows(late)], [SUCCESS])
		self.assertEqual(len(self.quotations_for(late)), 1)
		self.assertEqual(len(inbound_rows(early)), 1)
		self.assertEqual(len(inbound_rows(newest)), 1)

		self.one_interval_later()
		poll_if_due()
		self.assertEqual([len(inbound_rows(deal)) for deal in (early, newest, late)], [1, 1, 1])

	def test_two_saves_in_one_second_are_both_taken(self):
		account = self.make_account()
		deal = self.make_opportunity(account, [(self.shirt, 1, 450)])
		poll_if_due()
		process_queued()

		# the clock stands still: the second save shares the first one's SystemModstamp
		self.org.update("Opportunity", deal, {"Name": f"Same second {self.token}"})
		self.one_interval_later()
		poll_if_due()
		process_queued()

		self.assertEqual(len(inbound_rows(deal)), 2)
		self.assertEqual(
			frappe.db.get_value("Quotation", self.quotations_for(deal)[0], "title"),
			f"Same second {self.token}",
		)

	def test_a_record_delivered_by_an_outbound_message_is_not_queued_again(self):
		self.rules["Opportunity"].active = self.rules["Account"].active = True
		try:
			account = self.make_account()
			deal = self.make_opportunity(account, [(self.shirt, 1, 450)])
			self.deliver()
			process_queued([account, deal])
		finally:
			self.rules["Opportunity"].active = self.rules["Account"].active = False

		delivered = inbound_rows(deal)

		poll_if_due()

		self.assertTrue(delivered)
		self.assertEqual(inbound_rows(deal), delivered)
		self.assertEqual(len(self.quotations_for(deal)), 1)

	def test_the_first_poll_looks_back_one_interval_and_the_overlap_only(self):
		self.org.clock.set(datetime.now(timezone.utc) - timedelta(hours=2))
		old = self.make_opportunity(self.make_account(), [(self.shirt, 1, 450)])
		self.org.clock.set(datetime.now(timezone.utc))
		recent = self.make_opportunity(self.make_account(), [(self.shirt, 1, 450)])

		poll_if_due()

		self.assertEqual(inbound_rows(old), [])
		self.assertEqual(len(inbound_rows(recent)), 1)

	def test_polling_switched_off_asks_salesforce_nothing(self):
		frappe.db.set_single_value(SETTINGS, "polling_enabled", 0)
		frappe.db.commit()  # nosemgrep: the task reads Settings fresh
		used = self.org.usage.used
		deal = self.make_opportunity(self.make_account(), [(self.shirt, 1, 450)])

		poll_if_due()

		self.assertEqual(self.org.usage.used, used)
		self.assertEqual(inbound_rows(deal), [])
		self.assertIsNone(frappe.get_single(SETTINGS).last_polled_at)

	def test_salesforce_unavailable_is_logged_and_the_watermark_stays(self):
		self.make_opportunity(self.make_account(), [(self.shirt, 1, 450)])
		poll_if_due()
		watermarks = frappe.db.get_single_value(SETTINGS, "polling_watermarks")
		errors = frappe.db.count("Error Log")
		self.org.faults.add("GET query*", service_unavailable(), times=1000)
		try:
			self.one_interval_later()
			poll_if_due()
		finally:
			self.org.faults.clear()

		self.assertEqual(frappe.db.get_single_value(SETTINGS, "polling_watermarks"), watermarks)
		self.assertGreater(frappe.db.count("Error Log"), errors)

	def test_poll_changes_reports_each_object_window(self):
		deal = self.make_opportunity(self.make_account(), [(self.shirt, 1, 450)])

		polls = {poll.salesforce_object: poll for poll in poll_changes()}

		self.assertEqual(set(polls), {"Lead", "Account", "Contact", "Opportunity"})
		self.assertIn(
			deal,
			[frappe.db.get_value(SYNC_LOG, name, "salesforce_id") for name in polls["Opportunity"].queued],
		)
		self.assertLessEqual(polls["Opportunity"].since, self.org.clock.now())
		self.assertLessEqual(frappe.db.get_single_value(SETTINGS, "last_polled_at"), now_datetime())
