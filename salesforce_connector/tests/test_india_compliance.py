"""With India Compliance installed: GST fields land in its own fields, and won Opportunities become
Sales Orders that pass its validations for intra-state, inter-state and unregistered customers.

These tests run only on a site where India Compliance is installed; elsewhere they skip, saying so.
The company is registered in Maharashtra, so a Maharashtra customer is intra-state.
"""

import unittest

import frappe

from salesforce_connector.constants import SUCCESS
from salesforce_connector.core.transforms import build_gstin
from salesforce_connector.tests.test_sales_flow import SalesforceOrgTestCase, random_pan
from salesforce_connector.tests.utils import TEST_COMPANY, logs_for, make_item, process_queued

COMPANY_STATE = "Maharashtra"


def india_compliance_installed() -> bool:
	return "india_compliance" in frappe.get_installed_apps()


def ensure_company_gstin(company: str) -> str:
	"""India Compliance reads the company's GSTIN from an Address marked as the company's own."""
	existing = frappe.db.get_value(
		"Dynamic Link",
		{"link_doctype": "Company", "link_name": company, "parenttype": "Address"},
		"parent",
	)
	if existing and frappe.db.get_value("Address", existing, "gstin"):
		return frappe.db.get_value("Address", existing, "gstin")

	gstin = build_gstin("27", random_pan())
	frappe.get_doc(
		{
			"doctype": "Address",
			"address_title": company,
			"address_type": "Billing",
			"address_line1": "1 Nariman Point",
			"city": "Mumbai",
			"state": COMPANY_STATE,
			"pincode": "400021",
			"country": "India",
			"gstin": gstin,
			"is_your_company_address": 1,
			"links": [{"link_doctype": "Company", "link_name": company}],
		}
	).insert(ignore_permissions=True)
	frappe.db.commit()  # nosemgrep: the web server's connection and the jobs read it
	return gstin


class TestIndiaCompliance(SalesforceOrgTestCase):
	@classmethod
	def setUpClass(cls):
		if not india_compliance_installed():
			raise unittest.SkipTest(
				"India Compliance is not installed on this site; these tests run on a site that has it"
			)
		super().setUpClass()

	def setUp(self):
		super().setUp()
		self.company_gstin = ensure_company_gstin(TEST_COMPANY)
		self.item_code = f"UNIFORM-{self.token}"
		make_item(self.item_code, f"Uniform {self.token}")
		self.product = self.make_product(self.item_code, f"Uniform {self.token}", 300)

	def won_order_for(self, account: str):
		opportunity = self.make_opportunity(account, [(self.product, 1, 300)])
		self.deliver()
		process_queued([account, opportunity])
		self.org.update("Opportunity", opportunity, {"StageName": "Closed Won"})
		self.deliver()
		process_queued([opportunity])

		orders = self.sales_orders_for(opportunity)
		self.assertEqual(len(orders), 1, [(row.status, row.error) for row in logs_for(opportunity)])
		won = [row for row in logs_for(opportunity) if row.reference_name == orders[0]]
		self.assertIn(SUCCESS, [row.status for row in won])
		return frappe.get_doc("Sales Order", orders[0])

	def tax_accounts(self, order) -> set[str]:
		kinds = {"cgst_account": "CGST", "sgst_account": "SGST", "igst_account": "IGST"}
		accounts = frappe.get_all(
			"GST Account",
			filters={"company": order.company, "account_type": "Output"},
			fields=["cgst_account", "sgst_account", "igst_account"],
		)
		by_account = {row[field]: label for row in accounts for field, label in kinds.items() if row[field]}
		return {by_account.get(tax.account_head, tax.account_head) for tax in order.taxes}

	def party(self, account: str):
		customer = frappe.get_doc("Customer", {"salesforce_account_id": account})
		address = frappe.get_doc("Address", {"salesforce_address_key": f"{account}:Billing"})
		return customer, address

	def test_intra_state_registered_customer_gets_cgst_and_sgst(self):
		gstin = build_gstin("27", random_pan())
		account = self.make_account(
			GSTIN__c=gstin.lower(), BillingState="MH", BillingCity="Pune", BillingPostalCode="411001"
		)

		order = self.won_order_for(account)

		customer, address = self.party(account)
		self.assertEqual((customer.gstin, customer.gst_category), (gstin, "Registered Regular"))
		self.assertEqual(
			(address.gstin, address.gst_category, address.state), (gstin, "Registered Regular", "Maharashtra")
		)
		self.assertEqual(order.docstatus, 1)
		self.assertEqual(order.place_of_supply, "27-Maharashtra")
		self.assertEqual(order.company_gstin, self.company_gstin)
		self.assertEqual(self.tax_accounts(order), {"CGST", "SGST"})
		self.assertAlmostEqual(order.grand_total, 354)

	def test_inter_state_registered_customer_gets_igst(self):
		gstin = build_gstin("29", random_pan())
		account = self.make_account(GSTIN__c=gstin)

		order = self.won_order_for(account)

		customer, address = self.party(account)
		self.assertEqual((customer.gstin, customer.gst_category), (gstin, "Registered Regular"))
		self.assertEqual((address.gstin, address.state), (gstin, "Karnataka"))
		self.assertEqual(order.docstatus, 1)
		self.assertEqual(order.place_of_supply, "29-Karnataka")
		self.assertEqual(self.tax_accounts(order), {"IGST"})
		self.assertAlmostEqual(order.grand_total, 354)

	def test_unregistered_customer_order_passes_with_place_of_supply_from_the_address(self):
		account = self.make_account(
			GSTIN__c=None, BillingState="Tamil Nadu", BillingCity="Chennai", BillingPostalCode="600001"
		)

		order = self.won_order_for(account)

		customer, address = self.party(account)
		self.assertFalse(customer.gstin)
		self.assertEqual(customer.gst_category, "Unregistered")
		self.assertEqual((address.gst_category, address.state), ("Unregistered", "Tamil Nadu"))
		self.assertEqual(order.docstatus, 1)
		self.assertEqual(order.gst_category, "Unregistered")
		self.assertEqual(order.place_of_supply, "33-Tamil Nadu")
		self.assertEqual(self.tax_accounts(order), {"IGST"})
