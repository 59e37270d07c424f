"""Reconciliation on a real site: gaps planted between the local org and ERPNext are found, and the
Resync action of each row (the report's button) closes it; the bench command does it for all."""

import secrets
import subprocess
import sys
from pathlib import Path

import requests

import frappe
from frappe.desk.query_report import run
from frappe.utils import add_days, nowdate

from salesforce_connector.constants import QUOTATION_OPPORTUNITY_FIELD
from salesforce_connector.salesforce_connector.report.salesforce_reconciliation.salesforce_reconciliation import (
	execute,
	resync_gap,
)
from salesforce_connector.services.backfill import BackfillRequest, start_backfill
from salesforce_connector.services.reconciliation import (
	AMOUNT_DIFFERS,
	DELETED,
	MISSING_ORDER,
	STALE_FULFILMENT,
	Period,
	find_gaps,
)
from salesforce_connector.tests.test_sales_flow import SalesforceOrgTestCase
from salesforce_connector.tests.utils import make_item

RESYNC_METHOD = "salesforce_connector.salesforce_connector.report.salesforce_reconciliation.salesforce_reconciliation.resync_gap"


class TestReconciliation(SalesforceOrgTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		for rule in cls.rules.values():
			rule.active = False

	def setUp(self):
		super().setUp()
		self.shirt_code = f"SHIRT-{self.token}"
		make_item(self.shirt_code, f"Cotton Shirt {self.token}")
		self.shirt = self.make_product(self.shirt_code, f"Cotton Shirt {self.token}", 450)
		self.account = self.make_account()

	# helpers

	def won(self, quantity: float = 2) -> str:
		return self.make_opportunity(
			self.account, [(self.shirt, quantity, 450)], StageName="Closed Won", CloseDate=nowdate()
		)

	def sync(self, *opportunities: str) -> None:
		ids = ", ".join(opportunities)
		start_backfill(BackfillRequest("Opportunity", conditions=(f"Id IN ({ids})",)))
		frappe.set_user("Administrator")

	def customer(self) -> str:
		return frappe.db.get_value("Customer", {"salesforce_account_id": self.account})

	def period(self) -> Period:
		return Period(add_days(nowdate(), -1), add_days(nowdate(), 1), self.customer())

	def gaps_by_opportunity(self) -> dict[str, list[str]]:
		found = {}
		for gap in find_gaps(self.period()):
			found.setdefault(gap.opportunity_id, []).append(gap.issue)
		return found

	def order_of(self, opportunity: str):
		return frappe.get_doc("Sales Order", self.sales_orders_for(opportunity)[0])

	def set_fulfilment_as_written_back(self, *opportunities: str) -> None:
		"""What the write-back would have written: each Opportunity shows its order's status."""
		for opportunity in opportunities:
			self.org.update(
				"Opportunity", opportunity, {"Fulfillment_Status__c": self.order_of(opportunity).status}
			)

	# tests

	def test_planted_gaps_are_found_and_each_row_resync_closes_its_gap(self):
		in_step, amount, deleted, stale = self.won(), self.won(), self.won(), self.won()
		open_deleted = self.make_opportunity(self.account, [(self.shirt, 1, 450)], CloseDate=nowdate())
		self.sync(in_step, amount, deleted, stale, open_deleted)
		self.set_fulfilment_as_written_back(in_step, amount, deleted, stale)
		draft = self.quotations_for(open_deleted)[0]
		missing = self.won()

		line = self.org.rows("OpportunityLineItem")
		amount_line = next(row for row in line if row["OpportunityId"] == amount)
		self.org.update("OpportunityLineItem", amount_line["Id"], {"Quantity": 5})
		self.org.delete("Opportunity", deleted)
		self.org.delete("Opportunity", open_deleted)
		self.org.update("Opportunity", stale, {"Fulfillment_Status__c": "Completed"})

		self.assertEqual(
			self.gaps_by_opportunity(),
			{
				missing: [MISSING_ORDER],
				amount: [AMOUNT_DIFFERS],
				stale: [STALE_FULFILMENT],
				deleted: [DELETED],
				open_deleted: [DELETED],
			},
		)

		for row in execute(self.period().__dict__)[1]:
			resync_gap(row["issue"], row["opportunity_id"], row["document_type"], row["document"])
			frappe.db.commit()  # nosemgrep: as the button's request would
		frappe.set_user("Administrator")

		self.assertEqual(self.gaps_by_opportunity(), {})
		self.assertEqual(len(self.sales_orders_for(missing)), 1)
		self.assertEqual(self.order_of(amount).net_total, 5 * 450)
		self.assertEqual([item.qty for item in self.order_of(amount).items], [5])
		self.assertEqual(self.order_of(deleted).status, "Closed")
		self.assertEqual(frappe.get_all("Quotation", filters={QUOTATION_OPPORTUNITY_FIELD: open_deleted}), [])
		self.assertEqual(frappe.db.get_value("Quotation", draft, "docstatus"), 0)
		self.assertEqual(
			self.org.find("Opportunity", stale)["Fulfillment_Status__c"], self.order_of(stale).status
		)

	def test_report_rows_carry_what_the_resync_button_needs(self):
		missing = self.won()
		self.sync(self.won())

		# through Desk's own report runner, as the report page calls it
		answer = run("Salesforce Reconciliation", filters=self.period().__dict__)
		columns, rows = answer["columns"], answer["result"]

		self.assertIn("action", [column["fieldname"] for column in columns])
		[row] = [row for row in rows if row["opportunity_id"] == missing]
		self.assertEqual((row["issue"], row["document"]), (MISSING_ORDER, None))
		self.assertEqual(row["salesforce_amount"], 900)

	def test_resync_of_a_deleted_gap_whose_opportunity_exists_closes_nothing(self):
		deal = self.won()
		self.sync(deal)
		order = self.sales_orders_for(deal)[0]

		answer = resync_gap(DELETED, deal, "Sales Order", order)

		self.assertIn("exists in Salesforce", answer)
		self.assertNotEqual(frappe.db.get_value("Sales Order", order, "status"), "Closed")

	def test_an_amount_on_a_delivered_order_is_left_for_a_person(self):
		deal = self.won()
		self.sync(deal)
		self.set_fulfilment_as_written_back(deal)
		frappe.db.set_value("Sales Order", self.sales_orders_for(deal)[0], "per_delivered", 50)
		line = next(row for row in self.org.rows("OpportunityLineItem") if row["OpportunityId"] == deal)
		self.org.update("OpportunityLineItem", line["Id"], {"Quantity": 7})

		answer = resync_gap(AMOUNT_DIFFERS, deal)

		self.assertIn("by hand", answer)
		self.assertEqual(self.gaps_by_opportunity(), {deal: [AMOUNT_DIFFERS]})

	def test_resync_is_refused_over_http_to_a_user_who_is_no_system_manager(self):
		deal = self.won()
		password = secrets.token_urlsafe(16) + "aA1!"
		user = frappe.get_doc(
			{
				"doctype": "User",
				"email": f"sales.{self.token.lower()}@example.com",
				"first_name": "Sales",
				"new_password": password,
				"send_welcome_email": 0,
				"roles": [{"role": "Sales User"}],
			}
		).insert(ignore_permissions=True)
		frappe.db.commit()  # nosemgrep: the site's web thread logs this user in
		session = requests.Session()
		self.assertEqual(
			session.post(
				f"{self.site.url}/api/method/login", data={"usr": user.name, "pwd": password}
			).status_code,
			200,
		)

		answer = session.post(
			f"{self.site.url}/api/method/{RESYNC_METHOD}",
			data={"issue": MISSING_ORDER, "opportunity_id": deal},
		)

		self.assertEqual(answer.status_code, 403, answer.text[:500])
		frappe.db.rollback()
		self.assertEqual(self.sales_orders_for(deal), [])

	def test_the_command_lists_the_gaps_and_resyncs_them_all(self):
		synced = self.won()
		self.sync(synced)
		self.set_fulfilment_as_written_back(synced)
		missing = self.won()
		frappe.db.commit()  # nosemgrep: the command's process reads this test's records
		period = self.period()

		listed = self.command(
			"--from", period.from_date, "--to", period.to_date, "--customer", period.customer
		)
		resynced = self.command(
			"--from", period.from_date, "--to", period.to_date, "--customer", period.customer, "--resync"
		)

		self.assertIn(f"{MISSING_ORDER}\t{missing}", listed)
		self.assertNotIn(synced, listed)
		self.assertIn("After resync: 0 gap(s) remain.", resynced)
		self.assertEqual(len(self.sales_orders_for(missing)), 1)

	def command(self, *arguments: str) -> str:
		sites = Path(frappe.local.sites_path).resolve()
		done = subprocess.run(
			[
				sys.executable,
				"-m",
				"frappe.utils.bench_helper",
				"frappe",
				"--site",
				frappe.local.site,
				"salesforce-reconcile",
				*map(str, arguments),
			],
			cwd=sites,
			capture_output=True,
			text=True,
			timeout=600,
		)
		self.assertEqual(done.returncode, 0, done.stderr[-3000:])
		frappe.db.rollback()  # a fresh snapshot: what the command committed
		return done.stdout
