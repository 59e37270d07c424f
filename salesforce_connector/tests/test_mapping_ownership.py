"""Each mapping row's source of truth on a real site, with the local org sending real messages.

The org's clock is set by hand to place a Salesforce change before or after an edit made in ERPNext
at the real time of the test.
"""

from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import frappe

from salesforce_connector.constants import FIELD_MAPPING, SUCCESS
from salesforce_connector.core.mapping import ERPNEXT, NEWEST_WINS, SALESFORCE
from salesforce_connector.tests.test_sales_flow import SalesforceOrgTestCase
from salesforce_connector.tests.utils import logs_for, make_item, process_queued


@contextmanager
def owned_by(mapping_name: str, erpnext_field: str, owner: str):
	"""Set one row's source of truth in Desk's way (a saved mapping) for the length of a test."""
	mapping = frappe.get_doc(FIELD_MAPPING, mapping_name)
	row = next(row for row in mapping.rows if row.erpnext_field == erpnext_field)
	previous = row.source_of_truth
	row.source_of_truth = owner
	mapping.save()
	frappe.db.commit()  # nosemgrep: the job reads the mapping as an admin saved it
	try:
		yield
	finally:
		mapping.reload()
		next(row for row in mapping.rows if row.erpnext_field == erpnext_field).source_of_truth = previous
		mapping.save()
		frappe.db.commit()  # nosemgrep: later tests must see the default mapping


def utc_now() -> datetime:
	return datetime.now(timezone.utc)


class TestSourceOfTruth(SalesforceOrgTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		# this class's org also sends the Account's Website, which the Customer mapping reads
		cls.rules["Account"].fields.append("Website")

	def customer_for(self, account: str):
		return frappe.get_doc("Customer", {"salesforce_account_id": account})

	def address_of(self, account: str):
		return frappe.get_doc("Address", {"salesforce_address_key": f"{account}:Billing"})

	def sync(self, *salesforce_ids: str) -> None:
		self.deliver()
		for salesforce_id in salesforce_ids:
			process_queued([salesforce_id])

	def test_erpnext_owned_field_keeps_its_value_when_salesforce_sends_another(self):
		with owned_by("Account to Customer", "website", ERPNEXT):
			self.org.clock.set(utc_now() - timedelta(hours=1))
			account = self.make_account(Website="https://old.example")
			self.sync(account)
			customer = self.customer_for(account)
			customer.website = "https://erpnext.example"
			customer.save()

			self.org.clock.set(utc_now() + timedelta(hours=1))
			self.org.update(
				"Account", account, {"Website": "https://new.example", "Name": f"Kaveri Mills {self.token}"}
			)
			self.sync(account)

		customer.reload()
		self.assertEqual(customer.website, "https://erpnext.example")
		self.assertEqual(customer.customer_name, f"Kaveri Mills {self.token}")
		row = logs_for(account)[-1]
		self.assertEqual(row.status, SUCCESS)
		self.assertIn("kept website, not 'https://new.example' from Website: ERPNext owns it", row.notes)

	def test_field_created_from_salesforce_is_set_even_when_erpnext_owns_it(self):
		with owned_by("Account to Customer", "website", ERPNEXT):
			account = self.make_account(Website="https://first.example")
			self.sync(account)

		self.assertEqual(self.customer_for(account).website, "https://first.example")

	def test_salesforce_owned_field_replaces_an_erpnext_edit(self):
		self.org.clock.set(utc_now() - timedelta(hours=2))
		account = self.make_account()
		self.sync(account)
		customer = self.customer_for(account)
		customer.customer_name = f"Typed in ERPNext {self.token}"
		customer.save()

		# a Salesforce change older than the ERPNext edit still wins: Salesforce owns names
		self.org.clock.set(utc_now() - timedelta(hours=1))
		self.org.update("Account", account, {"Name": f"Kaveri Exports {self.token}"})
		self.sync(account)

		self.assertEqual(self.customer_for(account).customer_name, f"Kaveri Exports {self.token}")

	def test_newest_wins_keeps_an_erpnext_edit_newer_than_the_salesforce_change(self):
		self.org.clock.set(utc_now() - timedelta(hours=2))
		account = self.make_account(BillingCity="Bengaluru")
		self.sync(account)
		address = self.address_of(account)
		address.city = "Mysuru"
		address.save()

		self.org.clock.set(utc_now() - timedelta(hours=1))
		self.org.update("Account", account, {"BillingCity": "Hubballi"})
		self.sync(account)

		self.assertEqual(self.address_of(account).city, "Mysuru")
		notes = logs_for(account)[-1].notes
		self.assertIn("kept city, not 'Hubballi' from BillingCity: newest wins", notes)

		self.org.clock.set(utc_now() + timedelta(hours=1))
		self.org.update("Account", account, {"BillingCity": "Mangaluru"})
		self.sync(account)

		self.assertEqual(self.address_of(account).city, "Mangaluru")

	def test_newest_wins_remembers_the_erpnext_edit_after_a_sync_kept_it(self):
		self.org.clock.set(utc_now() - timedelta(hours=3))
		account = self.make_account(BillingCity="Bengaluru")
		self.sync(account)
		address = self.address_of(account)
		address.city = "Mysuru"
		address.save()

		# two Salesforce changes, both older than the ERPNext edit, processed one after the other:
		# the first sync writes the document, which must not make the second look newer
		for hours_ago, city in ((2, "Hubballi"), (1, "Belagavi")):
			self.org.clock.set(utc_now() - timedelta(hours=hours_ago))
			self.org.update("Account", account, {"BillingCity": city, "Name": f"Kaveri {city} {self.token}"})
			self.sync(account)

		self.assertEqual(self.address_of(account).city, "Mysuru")
		self.assertEqual(self.customer_for(account).customer_name, f"Kaveri Belagavi {self.token}")

	def test_an_older_message_never_overwrites_a_newer_version_read_with_an_opportunity(self):
		code = f"DHOTI-{self.token}"
		make_item(code, f"Dhoti {self.token}")
		product = self.make_product(code, f"Dhoti {self.token}", 250)
		self.org.clock.set(utc_now() - timedelta(hours=3))
		account = self.make_account()
		self.sync(account)

		# an Account message carrying the name as it was at two hours ago waits in the queue...
		self.org.clock.set(utc_now() - timedelta(hours=2))
		self.org.update("Account", account, {"Name": f"Older Name {self.token}"})
		self.deliver()
		# ...while the Account is renamed again and an Opportunity brings the newer Account with it
		self.rules["Account"].active = False
		try:
			self.org.clock.set(utc_now() - timedelta(hours=1))
			self.org.update("Account", account, {"Name": f"Newest Name {self.token}"})
			opportunity = self.make_opportunity(account, [(product, 1, 250)])
			self.sync(opportunity)
		finally:
			self.rules["Account"].active = True
		self.assertEqual(self.customer_for(account).customer_name, f"Newest Name {self.token}")

		process_queued([account])

		self.assertEqual(self.customer_for(account).customer_name, f"Newest Name {self.token}")
		late = logs_for(account)[-1]
		self.assertEqual(late.status, SUCCESS, late.error)
		self.assertIn(f"kept customer_name, not 'Older Name {self.token}'", late.notes)
		self.assertIn("older than the one already applied", late.notes)

	def test_quotation_line_keeps_an_erpnext_owned_rate_and_takes_salesforce_quantity(self):
		code = f"KURTA-{self.token}"
		make_item(code, f"Kurta {self.token}")
		product = self.make_product(code, f"Kurta {self.token}", 450)
		account = self.make_account()

		with owned_by("OpportunityLineItem to Quotation Item", "rate", ERPNEXT):
			opportunity = self.make_opportunity(account, [(product, 10, 450)])
			self.sync(opportunity)
			[line] = [
				row for row in self.org.rows("OpportunityLineItem") if row["OpportunityId"] == opportunity
			]
			self.org.clock.advance(minutes=5)
			self.org.update("OpportunityLineItem", line["Id"], {"UnitPrice": 500, "Quantity": 12})
			self.sync(opportunity)

		quotation = frappe.get_doc("Quotation", self.quotations_for(opportunity)[0])
		self.assertEqual([(item.qty, item.rate) for item in quotation.items], [(12, 450)])
		self.assertIn("kept rate, not 500", logs_for(opportunity)[-1].notes)

	def test_default_rows_carry_their_owner(self):
		rows = {
			(row.parent, row.erpnext_field): row.source_of_truth
			for row in frappe.get_all(
				"Salesforce Field Mapping Row",
				filters={"parenttype": FIELD_MAPPING},
				fields=["parent", "erpnext_field", "source_of_truth"],
			)
		}

		self.assertEqual(rows[("Account to Customer", "customer_name")], SALESFORCE)
		self.assertEqual(rows[("Account to Address", "city")], NEWEST_WINS)
		self.assertEqual(rows[("OpportunityLineItem to Quotation Item", "rate")], SALESFORCE)
