"""Saving a mapping checks its Salesforce fields against what the integration user can see in the org.

The local org answers describe over HTTP with the fields it has; a field the integration user may not
read is left out of Salesforce's describe, which the tests reproduce by taking it off the org's schema.
"""

import frappe
from frappe.tests.utils import FrappeTestCase

from salesforce_connector.constants import FIELD_MAPPING
from salesforce_connector.salesforce_connector.doctype.salesforce_field_mapping.salesforce_field_mapping import (
	SalesforceFieldMapping,
)
from salesforce_connector.tests.test_sales_flow import SalesforceOrgTestCase
from salesforce_connector.tests.utils import configure_connector


def unsaved_mapping(
	salesforce_object: str, doctype: str, rows: list[tuple[str, str]]
) -> SalesforceFieldMapping:
	mapping = frappe.get_doc(FIELD_MAPPING, f"{salesforce_object} to {doctype}")
	mapping.set("rows", [{"salesforce_field": sf, "erpnext_field": erp} for sf, erp in rows])
	return mapping


class TestSalesforceFieldCheck(SalesforceOrgTestCase):
	def tearDown(self):
		frappe.db.rollback()

	def test_a_field_the_org_does_not_have_cannot_be_saved_and_the_message_names_it(self):
		mapping = unsaved_mapping(
			"Account", "Customer", [("Name", "customer_name"), ("Credit_Rating__c", "website")]
		)

		with self.assertRaises(frappe.ValidationError) as raised:
			mapping.save()

		message = str(raised.exception)
		self.assertIn("Credit_Rating__c", message)
		self.assertIn("Account has no field Credit_Rating__c the integration user can see", message)
		self.assertNotIn("Row 1:", message)

	def test_a_field_hidden_from_the_integration_user_cannot_be_saved(self):
		account = self.org.sobject("Account")
		hidden = account.fields.pop("accountnumber")
		try:
			mapping = unsaved_mapping(
				"Account", "Customer", [("Name", "customer_name"), ("AccountNumber", "customer_details")]
			)
			with self.assertRaises(frappe.ValidationError) as raised:
				mapping.save()
		finally:
			account.fields["accountnumber"] = hidden

		self.assertIn("AccountNumber", str(raised.exception))

	def test_visible_fields_and_parent_paths_are_saved(self):
		mapping = unsaved_mapping(
			"Opportunity",
			"Quotation",
			[("Id", "custom_salesforce_opp_id"), ("Account.Name", "title"), ("CloseDate", "valid_till")],
		)

		mapping.save()

		self.assertEqual(len(frappe.get_doc(FIELD_MAPPING, "Opportunity to Quotation").rows), 3)

	def test_a_parent_path_through_a_missing_relationship_cannot_be_saved(self):
		mapping = unsaved_mapping("Opportunity", "Quotation", [("Partner.Name", "title")])

		with self.assertRaises(frappe.ValidationError) as raised:
			mapping.save()

		self.assertIn("Opportunity has no relationship Partner", str(raised.exception))

	def test_a_saved_row_the_org_lacks_does_not_stop_an_edit_of_another_row(self):
		# the local org has one currency, so it has no CurrencyIsoCode, which the default sheet maps
		self.assertIsNone(self.org.sobject("Opportunity").fields.get("currencyisocode"))
		frappe.clear_messages()

		mapping = frappe.get_doc(FIELD_MAPPING, "Opportunity to Quotation")
		mapping.append("rows", {"salesforce_field": "CloseDate", "erpnext_field": "valid_till"})
		mapping.save()

		saved = frappe.get_doc(FIELD_MAPPING, "Opportunity to Quotation")
		self.assertIn("valid_till", [row.erpnext_field for row in saved.rows])
		warnings = " ".join(message.get("message", "") for message in frappe.get_message_log())
		self.assertIn("CurrencyIsoCode", warnings)
		self.assertIn("map nothing", warnings)

	def test_a_new_row_the_org_lacks_is_refused_even_beside_a_tolerated_one(self):
		mapping = frappe.get_doc(FIELD_MAPPING, "Opportunity to Quotation")
		mapping.append("rows", {"salesforce_field": "Delivery_Terms__c", "erpnext_field": "terms"})

		with self.assertRaises(frappe.ValidationError) as raised:
			mapping.save()

		self.assertIn("Delivery_Terms__c", str(raised.exception))
		self.assertNotIn("CurrencyIsoCode", str(raised.exception))

	def test_the_form_says_fields_are_checked(self):
		note = frappe.get_doc(FIELD_MAPPING, "Account to Customer").salesforce_check_note()

		self.assertIn("checked on save", note)


class TestWithoutConnection(FrappeTestCase):
	def setUp(self):
		configure_connector(["00D000000000001"], consumer_key=None)

	def tearDown(self):
		frappe.db.rollback()

	def test_without_a_connection_salesforce_fields_are_not_checked(self):
		mapping = unsaved_mapping(
			"Account", "Customer", [("Name", "customer_name"), ("Credit_Rating__c", "website")]
		)

		mapping.save()

		self.assertIn("Credit_Rating__c", [row.salesforce_field for row in mapping.rows])

	def test_the_form_says_fields_are_not_checked_without_a_connection(self):
		note = frappe.get_doc(FIELD_MAPPING, "Account to Customer").salesforce_check_note()

		self.assertIn("No Salesforce API connection is configured", note)

	def test_an_erpnext_field_that_does_not_exist_is_still_refused(self):
		mapping = unsaved_mapping("Account", "Customer", [("Name", "no_such_field")])

		with self.assertRaises(frappe.ValidationError) as raised:
			mapping.save()

		self.assertIn("no_such_field", str(raised.exception))

	def test_a_blank_source_of_truth_gets_the_default_for_its_field(self):
		mapping = unsaved_mapping("Account", "Address", [("BillingCity", "city")])

		mapping.save()

		self.assertEqual(mapping.rows[0].source_of_truth, "Newest wins")
