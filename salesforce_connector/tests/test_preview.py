"""Preview: what processing a record would do, shown without writing anything.

Each test counts the documents processing would touch before and after the preview, checks that
the preview ran no write in the open transaction, rolls that transaction back and counts again.
"""

import secrets
from datetime import datetime, timedelta, timezone

import frappe

from salesforce_connector.constants import QUEUED, SYNC_LOG
from salesforce_connector.services.preview import preview_salesforce_record, preview_sync_log
from salesforce_connector.tests.test_mapping_ownership import owned_by
from salesforce_connector.tests.test_sales_flow import SalesforceOrgTestCase
from salesforce_connector.tests.utils import logs_for, make_item, process_queued

COUNTED = (
	"Customer",
	"Contact",
	"Address",
	"Quotation",
	"Sales Order",
	"Item",
	SYNC_LOG,
	"Comment",
	"Version",
)


def counts() -> dict[str, int]:
	return {doctype: frappe.db.count(doctype) for doctype in COUNTED}


class TestPreview(SalesforceOrgTestCase):
	def assert_writes_nothing(self, preview):
		"""Run the preview and prove it wrote nothing, committed or not; returns its answer."""
		frappe.db.commit()  # nosemgrep: start from a transaction with no writes of the test's own
		before = counts()

		answer = preview()

		self.assertEqual(frappe.db.transaction_writes, 0)
		self.assertEqual(counts(), before)
		frappe.db.rollback()
		self.assertEqual(counts(), before)
		return answer

	def document(self, answer: dict, doctype: str) -> dict:
		return next(doc for doc in answer["documents"] if doc["doctype"] == doctype)

	def test_sync_log_row_preview_shows_what_processing_then_makes(self):
		landline = f"{secrets.randbelow(9000) + 1000}{secrets.randbelow(9000) + 1000}"
		account = self.make_account(BillingState="karnataka", Phone=f"080 {landline[:4]} {landline[4:]}")
		self.deliver()
		[row] = logs_for(account)

		answer = self.assert_writes_nothing(lambda: preview_sync_log(row.name))

		self.assertEqual(frappe.db.get_value(SYNC_LOG, row.name, "status"), QUEUED)
		customer = self.document(answer, "Customer")
		address = self.document(answer, "Address")
		self.assertEqual((customer["action"], address["action"]), ("Create", "Create"))
		self.assertEqual(customer["values"]["customer_name"], f"Kaveri Textiles {self.token}")
		self.assertEqual(address["values"]["state"], "Karnataka")
		self.assertEqual(address["values"]["phone"], f"+9180{landline}")

		process_queued([account])

		made = frappe.get_doc("Customer", {"salesforce_account_id": account})
		made_address = frappe.get_doc("Address", {"salesforce_address_key": f"{account}:Billing"})
		self.assertEqual(made.customer_name, customer["values"]["customer_name"])
		self.assertEqual((made_address.state, made_address.phone), ("Karnataka", f"+9180{landline}"))

	def test_record_id_preview_lists_the_fields_an_update_would_keep(self):
		with owned_by("Account to Customer", "website", "ERPNext"):
			account = self.make_account(Website="https://first.example")
			self.deliver()
			process_queued([account])
			self.org.clock.set(datetime.now(timezone.utc) + timedelta(hours=1))
			self.org.update(
				"Account",
				account,
				{"Website": "https://second.example", "Name": f"Kaveri Mills {self.token}"},
			)

			answer = self.assert_writes_nothing(lambda: preview_salesforce_record(account))

		customer = self.document(answer, "Customer")
		self.assertEqual(customer["action"], "Update")
		self.assertEqual(
			customer["name"], frappe.db.get_value("Customer", {"salesforce_account_id": account})
		)
		self.assertEqual(customer["values"], {"customer_name": f"Kaveri Mills {self.token}"})
		self.assertEqual(
			customer["skipped"],
			[
				{
					"field": "website",
					"salesforce_field": "Website",
					"value": "https://second.example",
					"reason": "ERPNext owns it",
				}
			],
		)

	def test_won_opportunity_preview_shows_quotation_lines_and_a_sales_order(self):
		code = f"SAREE-{self.token}"
		make_item(code, f"Saree {self.token}")
		product = self.make_product(code, f"Saree {self.token}", 1200)
		account = self.make_account()
		opportunity = self.make_opportunity(account, [(product, 3, 1150)], StageName="Closed Won")

		answer = self.assert_writes_nothing(lambda: preview_salesforce_record(opportunity))

		self.assertIsNone(answer["error"])
		quotation = self.document(answer, "Quotation")
		self.assertEqual(quotation["action"], "Create")
		self.assertIn("new Customer for Account", quotation["values"]["party_name"])
		[line] = quotation["lines"]
		self.assertEqual((line["values"]["item_code"], line["values"]["qty"]), (code, "3.0"))
		self.assertEqual(line["values"]["rate"], "1150.00")
		self.assertEqual(self.document(answer, "Sales Order")["action"], "Create")
		self.assertEqual(self.quotations_for(opportunity), [])
		self.assertEqual(self.sales_orders_for(opportunity), [])

	def test_preview_of_a_value_processing_would_reject_says_why_and_writes_nothing(self):
		account = self.make_account(GSTIN__c="29ABCDE1234F1Z9")
		self.deliver()

		answer = self.assert_writes_nothing(lambda: preview_sync_log(logs_for(account)[0].name))

		self.assertIn("Processing would fail", answer["error"])
		self.assertIn("29ABCDE1234F1Z9", answer["error"])

	def test_unconverted_lead_preview_says_it_would_be_skipped(self):
		lead = self.org.create("Lead", {"Company": f"Open {self.token}", "LastName": "Iyer"})

		answer = self.assert_writes_nothing(lambda: preview_salesforce_record(lead))

		self.assertEqual(answer["documents"], [])
		self.assertIn("not converted", answer["notes"][0])

	def test_an_opportunity_lost_before_it_was_quoted_previews_as_making_nothing(self):
		code = f"SAREE-{self.token}"
		make_item(code, f"Saree {self.token}")
		product = self.make_product(code, f"Saree {self.token}", 1200)
		lost = self.make_opportunity(self.make_account(), [(product, 1, 1200)], StageName="Closed Lost")

		answer = self.assert_writes_nothing(lambda: preview_salesforce_record(lost))

		self.assertEqual(answer["documents"], [])
		self.assertIn("closed without being won", answer["notes"][0])

	def test_an_id_of_an_object_not_handled_is_refused(self):
		with self.assertRaises(frappe.ValidationError):
			preview_salesforce_record("01t000000000001AAA")
