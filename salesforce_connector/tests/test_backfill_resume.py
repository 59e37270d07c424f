"""A long backfill, killed halfway and resumed, ends as an uninterrupted one does.

The run is the `salesforce-backfill` command in a process of its own, killed with SIGKILL once half
of the Opportunities are done; this process resumes it. The org holds a twin set of deals, shaped
alike, that an uninterrupted run takes, and the two results are compared deal by deal.

SALESFORCE_BACKFILL_TEST_SIZE sets how many Opportunities each set has (default 60, so that the
site suite stays short on a small machine); the issue's demonstration is 2000.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import frappe

from salesforce_connector.constants import BACKFILL_RUN, QUOTATION_OPPORTUNITY_FIELD, SYNC_LOG
from salesforce_connector.core.backfill import Counts
from salesforce_connector.services.backfill import BackfillRequest, resume_backfill, start_backfill
from salesforce_connector.tests.seed import product_codes, seed_deals
from salesforce_connector.tests.test_sales_flow import SalesforceOrgTestCase
from salesforce_connector.tests.utils import make_item, run_token

SIZE = int(os.environ.get("SALESFORCE_BACKFILL_TEST_SIZE", "60"))
KILL_WAIT_SECONDS = 60 + 3 * SIZE
WATCHED = ("Quotation", "Sales Order", "Customer", "Address", SYNC_LOG, BACKFILL_RUN)


class TestKilledAndResumedBackfill(SalesforceOrgTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		for rule in cls.rules.values():
			rule.active = False
		cls.seed_token, cls.twin_token = run_token(), run_token()
		cls.deals = seed_deals(cls.org, cls.seed_token, SIZE)
		cls.twins = seed_deals(cls.org, cls.twin_token, SIZE)

	def setUp(self):
		super().setUp()
		for token in (self.seed_token, self.twin_token):
			for code in product_codes(token, 3):
				make_item(code, f"Seeded product {code}")
		frappe.db.commit()  # nosemgrep: the backfill process reads the Items

	def test_killed_halfway_and_resumed_matches_an_uninterrupted_run_and_runs_again_unchanged(self):
		selection = f"Name LIKE 'Deal {self.seed_token} %'"

		before = self.counts_of_watched()
		dry = start_backfill(BackfillRequest("Opportunity", conditions=(selection,), dry_run=True))
		self.assertEqual(self.counts_of_watched(), before, "a dry run wrote something")
		self.assertEqual(dry.counts, Counts(created=SIZE))

		run_name = self.start_and_kill_halfway(selection)
		resumed = resume_backfill("Opportunity")
		frappe.set_user("Administrator")

		self.assertEqual((resumed.run, resumed.status), (run_name, "Completed"), resumed.stop_reason)
		self.assertEqual(resumed.counts, dry.counts)
		self.assert_one_document_per_opportunity(self.deals)

		twin = start_backfill(
			BackfillRequest("Opportunity", conditions=(f"Name LIKE 'Deal {self.twin_token} %'",))
		)
		self.assertEqual(twin.counts, resumed.counts)
		self.assertEqual(
			[self.signature(deal) for deal in self.deals], [self.signature(deal) for deal in self.twins]
		)

		rows_and_documents = self.counts_of_watched()
		again = start_backfill(BackfillRequest("Opportunity", conditions=(selection,)))
		self.assertEqual(again.counts, Counts(unchanged=SIZE))
		self.assertEqual(self.counts_of_watched()[:-1], rows_and_documents[:-1])

	# steps

	def start_and_kill_halfway(self, selection: str) -> str:
		sites = Path(frappe.local.sites_path).resolve()
		log = sites / f"backfill-{self.seed_token}.log"
		command = [sys.executable, "-m", "frappe.utils.bench_helper", "frappe", "--site", frappe.local.site]
		command += ["salesforce-backfill", "--object", "Opportunity", "--where", selection]
		with log.open("w") as output:
			process = subprocess.Popen(
				command,
				cwd=sites,
				stdout=output,
				stderr=subprocess.STDOUT,
			)
		try:
			run_name = self.wait_until_half_done(process)
		finally:
			process.send_signal(signal.SIGKILL)
			process.wait(timeout=30)

		frappe.db.rollback()  # a fresh snapshot: what the killed process had committed
		run = frappe.db.get_value(BACKFILL_RUN, run_name, ["status", "processed"], as_dict=True)
		self.assertEqual(run.status, "Running", "the killed run could not mark itself")
		self.assertTrue(SIZE // 2 <= run.processed < SIZE, run)
		log.unlink()
		return run_name

	def wait_until_half_done(self, process) -> str:
		deadline = time.monotonic() + KILL_WAIT_SECONDS
		while time.monotonic() < deadline:
			self.assertIsNone(process.poll(), "the backfill process ended before it was killed")
			frappe.db.rollback()  # see the other process's commits
			run = frappe.db.get_value(
				BACKFILL_RUN,
				{"salesforce_object": "Opportunity", "conditions": ["like", f"%{self.seed_token}%"]},
				["name", "processed"],
				as_dict=True,
			)
			if run and run.processed >= SIZE // 2:
				return run.name
			time.sleep(0.2)
		self.fail(f"the backfill did not reach half of {SIZE} records in {KILL_WAIT_SECONDS} s")

	# checks

	def assert_one_document_per_opportunity(self, deals) -> None:
		for deal in deals:
			quotations = self.documents("Quotation", QUOTATION_OPPORTUNITY_FIELD, deal.opportunity_id)
			orders = self.documents("Sales Order", "salesforce_opportunity_id", deal.opportunity_id)
			self.assertEqual(len(quotations), 1, deal)
			self.assertEqual(len(orders), 1 if deal.won else 0, deal)

	def signature(self, deal) -> tuple:
		"""What a deal became, without names that differ between the two sets."""
		documents = []
		for doctype, link in (
			("Quotation", QUOTATION_OPPORTUNITY_FIELD),
			("Sales Order", "salesforce_opportunity_id"),
		):
			for name in self.documents(doctype, link, deal.opportunity_id):
				document = frappe.get_doc(doctype, name)
				documents.append(
					(
						doctype,
						document.docstatus,
						document.net_total,
						tuple(
							(item.item_code.rsplit("-", 1)[-1], item.qty, item.rate)
							for item in document.items
						),
						frappe.db.get_value(
							"Customer",
							document.get("party_name") or document.get("customer"),
							"customer_name",
						)
						.replace(self.seed_token, "")
						.replace(self.twin_token, ""),
					)
				)
		return deal.account_index, deal.won, tuple(documents)

	def documents(self, doctype: str, link: str, opportunity_id: str) -> list[str]:
		return frappe.get_all(doctype, filters={link: opportunity_id, "docstatus": ["<", 2]}, pluck="name")

	def counts_of_watched(self) -> tuple:
		return tuple(frappe.db.count(doctype) for doctype in WATCHED)
