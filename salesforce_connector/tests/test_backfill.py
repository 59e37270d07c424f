"""Backfill on a real site, with the local Salesforce org over HTTP on the other side.

Records are read with SOQL and processed by the same job as Outbound Messages; these tests check
what a run makes, what it leaves alone, how it reports, and how it goes on after it stopped.
"""

from datetime import datetime, timedelta, timezone

import frappe

from salesforce_connector.commands import _backfill_report
from salesforce_connector.constants import (
	BACKFILL_FAILURE,
	BACKFILL_RUN,
	FAILED,
	SKIPPED,
	SUCCESS,
	SYNC_LOG,
)
from salesforce_connector.core.backfill import Counts, SelectionError
from salesforce_connector.services.backfill import (
	BackfillRequest,
	resume_backfill,
	retry_failures,
	start_backfill,
)
from salesforce_connector.tests.test_sales_flow import SalesforceOrgTestCase
from salesforce_connector.tests.utils import make_item, process_queued

WON_OR_OPEN = ("Closed Won", "Prospecting")


def counts(**values) -> Counts:
	return Counts(**values)


def logs_for(salesforce_id: str) -> list[dict]:
	"""The inbound rows of a record (written-back facts have outbound rows of their own)."""
	return frappe.get_all(
		SYNC_LOG,
		filters={"salesforce_id": salesforce_id, "direction": "Inbound"},
		fields=["name", "status", "error", "reference_doctype", "reference_name"],
		order_by="creation asc",
	)


class BackfillTestCase(SalesforceOrgTestCase):
	"""The org's Outbound Messages stay off unless a test delivers them itself."""

	def setUp(self):
		super().setUp()
		self.shirt_code = f"SHIRT-{self.token}"
		make_item(self.shirt_code, f"Cotton Shirt {self.token}")
		self.shirt = self.make_product(self.shirt_code, f"Cotton Shirt {self.token}", 450)

	def backfill(self, salesforce_object="Opportunity", **options) -> "object":
		# every selection names this test's records only: the org lives as long as the class
		options.setdefault("conditions", (f"Name LIKE '%{self.token}%'",))
		result = start_backfill(BackfillRequest(salesforce_object, **options))
		frappe.set_user("Administrator")
		return result

	def documents_for(self, opportunity: str) -> list[tuple[str, int]]:
		return [("Quotation", name) for name in self.quotations_for(opportunity)] + [
			("Sales Order", name) for name in self.sales_orders_for(opportunity)
		]


class TestBackfillOpportunities(BackfillTestCase):
	def test_open_and_won_opportunities_become_quotation_and_sales_order_with_their_account(self):
		account = self.make_account()
		open_deal = self.make_opportunity(account, [(self.shirt, 2, 450)])
		won_deal = self.make_opportunity(account, [(self.shirt, 5, 450)], StageName="Closed Won")

		result = self.backfill()

		self.assertEqual((result.status, result.counts), ("Completed", counts(created=2)), result)
		self.assertEqual(len(self.quotations_for(open_deal)), 1)
		self.assertEqual(len(self.sales_orders_for(won_deal)), 1)
		self.assertEqual(frappe.db.count("Customer", {"salesforce_account_id": account}), 1)
		self.assertEqual([row.status for row in logs_for(won_deal)], [SUCCESS])

	def test_a_run_leaves_frappe_holding_no_document_as_still_being_saved(self):
		# Frappe scans that list on every save; entries left behind a record slow every later one
		account = self.make_account()
		for index in range(4):
			self.make_opportunity(account, [(self.shirt, index + 1, 450)], StageName=WON_OR_OPEN[index % 2])
		frappe.flags.currently_saving = []

		result = self.backfill()

		self.assertEqual(result.counts, counts(created=4))
		self.assertEqual(frappe.flags.currently_saving, [])

	def test_a_second_run_changes_nothing_and_makes_no_rows(self):
		account = self.make_account()
		deals = [self.make_opportunity(account, [(self.shirt, index + 1, 450)]) for index in range(3)]
		self.backfill()
		rows_before = frappe.db.count(SYNC_LOG, {"salesforce_id": ["in", deals]})
		modified_before = [
			frappe.db.get_value("Quotation", self.quotations_for(d)[0], "modified") for d in deals
		]

		result = self.backfill()

		self.assertEqual(result.counts, counts(unchanged=3))
		self.assertEqual(frappe.db.count(SYNC_LOG, {"salesforce_id": ["in", deals]}), rows_before)
		self.assertEqual(
			[frappe.db.get_value("Quotation", self.quotations_for(d)[0], "modified") for d in deals],
			modified_before,
		)

	def test_an_account_held_at_its_version_is_not_written_again_and_a_changed_one_is(self):
		account = self.make_account(Website="https://first.example")
		self.make_opportunity(account, [(self.shirt, 1, 450)])
		self.backfill()
		customer = frappe.db.get_value("Customer", {"salesforce_account_id": account})
		written = frappe.db.get_value("Customer", customer, "modified")

		self.make_opportunity(account, [(self.shirt, 2, 450)])
		second = self.backfill()
		self.org.clock.advance(seconds=5)
		self.org.update("Account", account, {"Website": "https://second.example"})
		self.make_opportunity(account, [(self.shirt, 3, 450)])
		third = self.backfill()

		self.assertEqual(
			(second.counts, third.counts), (counts(created=1, unchanged=1), counts(created=1, unchanged=2))
		)
		self.assertGreater(frappe.db.get_value("Customer", customer, "modified"), written)
		self.assertEqual(frappe.db.get_value("Customer", customer, "website"), "https://second.example")

	def test_a_second_deal_of_a_held_account_leaves_its_customer_as_it_is(self):
		account = self.make_account()
		self.make_opportunity(account, [(self.shirt, 1, 450)])
		self.backfill()
		customer = frappe.db.get_value("Customer", {"salesforce_account_id": account})
		written = frappe.db.get_value("Customer", customer, "modified")

		deal = self.make_opportunity(account, [(self.shirt, 2, 450)])
		self.backfill()

		self.assertEqual(len(self.quotations_for(deal)), 1)
		self.assertEqual(frappe.db.get_value("Customer", customer, "modified"), written)

	def test_a_record_changed_in_salesforce_since_the_last_run_is_updated(self):
		account = self.make_account()
		deal = self.make_opportunity(account, [(self.shirt, 2, 450)])
		self.backfill()
		self.org.clock.advance(seconds=5)
		self.org.update("Opportunity", deal, {"Name": f"Uniforms, revised {self.token}"})

		result = self.backfill()

		self.assertEqual(result.counts, counts(updated=1))
		self.assertEqual(
			frappe.db.get_value("Quotation", self.quotations_for(deal)[0], "title"),
			f"Uniforms, revised {self.token}",
		)

	def test_backfilled_then_delivered_by_outbound_message_makes_one_of_each(self):
		account = self.make_account()
		deal = self.make_opportunity(account, [(self.shirt, 3, 450)], StageName="Closed Won")
		self.backfill()

		self.deliver()
		process_queued([deal])

		self.assertEqual(len(self.quotations_for(deal)), 1)
		self.assertEqual(len(self.sales_orders_for(deal)), 1)

	def test_delivered_by_outbound_message_then_backfilled_is_unchanged(self):
		account = self.make_account()
		deal = self.make_opportunity(account, [(self.shirt, 3, 450)], StageName="Closed Won")
		self.deliver()
		process_queued([account, deal])
		rows_before = len(logs_for(deal))

		result = self.backfill()

		self.assertEqual(result.counts, counts(unchanged=1))
		self.assertEqual(len(logs_for(deal)), rows_before)
		self.assertEqual(len(self.sales_orders_for(deal)), 1)

	def test_a_failing_record_has_its_own_row_and_the_run_goes_on_then_retry_fixes_it(self):
		account = self.make_account()
		belt_code = f"BELT-{self.token}"
		belt = self.make_product(belt_code, f"Leather Belt {self.token}", 300)
		before = self.make_opportunity(account, [(self.shirt, 1, 450)])
		failing = self.make_opportunity(account, [(belt, 2, 300)])
		after = self.make_opportunity(account, [(self.shirt, 4, 450)])

		result = self.backfill()

		self.assertEqual(result.counts, counts(created=2, failed=1))
		self.assertEqual([failure["salesforce_id"] for failure in result.failures], [failing])
		[row] = logs_for(failing)
		self.assertEqual(row.status, FAILED)
		self.assertIn(belt_code, row.error)
		self.assertEqual(frappe.db.get_value(BACKFILL_FAILURE, {"parent": result.run}, "sync_log"), row.name)
		self.assertTrue(self.quotations_for(before) and self.quotations_for(after))

		make_item(belt_code)
		retried = retry_failures(result.run)

		self.assertEqual(retried.counts, counts(created=1))
		self.assertEqual(frappe.db.get_value(SYNC_LOG, row.name, "status"), SUCCESS)
		self.assertEqual(len(self.quotations_for(failing)), 1)

	def test_an_opportunity_without_products_is_skipped(self):
		deal = self.make_opportunity(self.make_account(), [])

		result = self.backfill()

		self.assertEqual(result.counts, counts(skipped=1))
		self.assertEqual([row.status for row in logs_for(deal)], [SKIPPED])

	def test_rows_made_from_the_api_have_no_notification_id(self):
		deal = self.make_opportunity(self.make_account(), [(self.shirt, 1, 450)])
		other = self.make_opportunity(self.make_account(), [(self.shirt, 1, 450)])

		self.backfill()

		# two rows, one unique column: both must hold NULL, never an empty string
		blank = frappe.db.sql(
			f"select count(*) from `tab{SYNC_LOG}` where salesforce_id in %s and notification_id is null",
			((deal, other),),
		)[0][0]
		self.assertEqual(blank, 2)


class TestBackfillSelection(BackfillTestCase):
	def test_since_until_and_where_select_records_and_limit_stops_early(self):
		account = self.make_account()
		start = datetime(2025, 1, 10, 8, 0, tzinfo=timezone.utc)
		made = []
		for day in range(4):
			self.org.clock.set(start + timedelta(days=day))
			made.append(
				self.make_opportunity(account, [(self.shirt, day + 1, 450)], Description=f"day {day}")
			)
		self.org.clock.set(start + timedelta(days=10))

		result = self.backfill(date_field="CreatedDate", since="2025-01-11", until="2025-01-12")
		limited = self.backfill(limit=1)

		self.assertEqual(result.counts, counts(created=2))
		self.assertEqual([bool(self.quotations_for(deal)) for deal in made], [True, True, True, False])
		self.assertEqual(limited.counts, counts(created=1))
		self.assertEqual(frappe.db.get_value(BACKFILL_RUN, result.run, "date_field"), "CreatedDate")

	def test_a_condition_on_an_unknown_field_is_refused_before_anything_is_read(self):
		runs_before = frappe.db.count(BACKFILL_RUN)

		with self.assertRaises(SelectionError) as raised:
			self.backfill(conditions=("Colour__c = red",))

		self.assertIn("Colour__c", raised.exception.message)
		self.assertEqual(frappe.db.count(BACKFILL_RUN), runs_before)


class TestBackfillAccountsAndLeads(BackfillTestCase):
	def test_accounts_become_customers_and_unconverted_leads_are_skipped(self):
		account = self.make_account(Name=f"Kaveri Looms {self.token}")
		lead = self.org.create("Lead", {"Company": f"Open Lead {self.token}", "LastName": "Iyer"})
		converted = self.org.create("Lead", {"Company": f"Sharma Traders {self.token}", "LastName": "Sharma"})
		self.org.convert_lead(converted, create_opportunity=False)

		accounts = self.backfill("Account", conditions=(f"Name = Kaveri Looms {self.token}",))
		leads = self.backfill("Lead", conditions=(f"Company LIKE '%{self.token}%'",))

		self.assertEqual(accounts.counts, counts(created=1))
		self.assertEqual(frappe.db.count("Customer", {"salesforce_account_id": account}), 1)
		self.assertEqual(leads.counts, counts(created=1, skipped=1))
		self.assertEqual([row.status for row in logs_for(lead)], [SKIPPED])


class TestDryRun(BackfillTestCase):
	def test_dry_run_writes_nothing_and_counts_as_the_real_run_does(self):
		account = self.make_account()
		belt = self.make_product(f"BELT-{self.token}", f"Belt {self.token}", 300)
		synced = self.make_opportunity(account, [(self.shirt, 1, 450)])
		self.backfill(conditions=(f"Name LIKE '%{self.token}%'", f"Id = {synced}"))
		for quantity in (2, 3):
			self.make_opportunity(account, [(self.shirt, quantity, 450)])
		self.make_opportunity(account, [(self.shirt, 6, 450)], StageName="Closed Won")
		self.make_opportunity(account, [])
		self.make_opportunity(account, [(belt, 1, 300)])
		watched = ("Quotation", "Sales Order", "Customer", "Contact", "Address", SYNC_LOG, BACKFILL_RUN)
		before = {doctype: frappe.db.count(doctype) for doctype in watched}

		dry = self.backfill(dry_run=True)
		after_dry = {doctype: frappe.db.count(doctype) for doctype in watched}
		real = self.backfill()

		self.assertEqual(after_dry, before)
		self.assertIsNone(dry.run)
		self.assertEqual(dry.counts, counts(created=3, unchanged=1, skipped=1, failed=1))
		self.assertEqual(real.counts, dry.counts)

		dry_report = "\n".join(_backfill_report(dry, "site.test", "Opportunity"))
		real_report = "\n".join(_backfill_report(real, "site.test", "Opportunity"))
		[failure] = dry.failures
		self.assertIn("Records that would fail", dry_report)
		self.assertIn(failure["error"].splitlines()[0], dry_report)
		self.assertNotIn(failure["sync_log"], dry_report)
		self.assertIn(f"[{real.failures[0]['sync_log']}]", real_report)
		self.assertTrue(frappe.db.exists(SYNC_LOG, real.failures[0]["sync_log"]))


class TestBulkAndResume(BackfillTestCase):
	def test_bulk_mode_reads_a_query_job(self):
		account = self.make_account()
		deals = [self.make_opportunity(account, [(self.shirt, n + 1, 450)]) for n in range(3)]

		result = self.backfill(bulk_threshold=0)

		self.assertEqual(result.counts, counts(created=3))
		self.assertEqual(frappe.db.get_value(BACKFILL_RUN, result.run, "query_mode"), "Bulk API 2.0")
		self.assertTrue(all(self.quotations_for(deal) for deal in deals))

	def test_a_run_stopped_by_the_api_budget_goes_on_with_resume(self):
		account = self.make_account()
		deals = [self.make_opportunity(account, [(self.shirt, n + 1, 450)]) for n in range(3)]
		frappe.db.set_single_value("Salesforce Settings", "max_daily_api_share", 50)
		self.org.usage.used = self.org.usage.daily_limit // 2 + 1
		try:
			stopped = self.backfill()
		finally:
			frappe.db.set_single_value("Salesforce Settings", "max_daily_api_share", 80)
			frappe.db.commit()  # nosemgrep: later tests read Settings
		self.org.usage.reset()

		resumed = resume_backfill("Opportunity")

		self.assertEqual(stopped.status, "Stopped")
		self.assertIn("API", stopped.stop_reason)
		self.assertEqual(stopped.counts.total, 0)
		self.assertEqual((resumed.run, resumed.status), (stopped.run, "Completed"))
		self.assertEqual(resumed.counts, counts(created=3))
		self.assertTrue(all(self.quotations_for(deal) for deal in deals))
