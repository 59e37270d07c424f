"""Lead to cash on a real site, with the local Salesforce org on the other side of real HTTP.

The org sends its Outbound Messages to this site's endpoint; the connector reads Opportunities back
from the org's REST API with simple-salesforce. A test does what a background worker does by
calling the job function for the rows the endpoint queued.
"""

import secrets

import frappe
from frappe.tests.utils import FrappeTestCase

from salesforce_connector.constants import (
	DUPLICATE,
	FAILED,
	NEEDS_REVIEW,
	QUOTATION_OPPORTUNITY_FIELD,
	SKIPPED,
	SUCCESS,
	SYNC_LOG,
)
from salesforce_connector.core.transforms import build_gstin
from salesforce_connector.emulator.faults import service_unavailable
from salesforce_connector.emulator.ids import IdFactory
from salesforce_connector.emulator.org import Org
from salesforce_connector.emulator.server import EmulatorServer
from salesforce_connector.salesforce_connector.doctype.salesforce_sync_log.salesforce_sync_log import (
	queue_again,
)
from salesforce_connector.tasks.inbound import process_sync_log
from salesforce_connector.tests.utils import (
	SiteServer,
	configure_connector,
	logs_for,
	make_item,
	process_queued,
	run_token,
)

LEAD_FIELDS = [
	"IsConverted",
	"ConvertedAccountId",
	"ConvertedContactId",
	"Company",
	"FirstName",
	"LastName",
	"Email",
	"Phone",
	"Street",
	"City",
	"State",
	"PostalCode",
	"Country",
	"GSTIN__c",
	"SystemModstamp",
]
ACCOUNT_FIELDS = [
	"Name",
	"BillingStreet",
	"BillingCity",
	"BillingState",
	"BillingPostalCode",
	"Phone",
	"GSTIN__c",
	"SystemModstamp",
]


def random_pan() -> str:
	letters = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(3))
	return (
		f"{letters}C{secrets.choice('ABCDEFGH')}{secrets.randbelow(9000) + 1000}{secrets.choice('ABCDEFGH')}"
	)


def random_mobile() -> str:
	return f"98{secrets.randbelow(10**8):08d}"


class SalesforceOrgTestCase(FrappeTestCase):
	"""A fresh local org per class, this site served over HTTP, and rules pointing one at the other."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.org = Org()
		# Ids are serial within an org; start this org's serials at random so that records of
		# earlier runs on the same test site are never mistaken for this run's.
		cls.org.ids = IdFactory(start=secrets.randbelow(10**10))
		cls.emulator = EmulatorServer(cls.org).start()
		cls.site = SiteServer().start()
		cls.rules = {
			"Lead": cls.org.outbound.add_rule("Lead", cls.site.endpoint, LEAD_FIELDS),
			"Account": cls.org.outbound.add_rule("Account", cls.site.endpoint, ACCOUNT_FIELDS),
			"Opportunity": cls.org.outbound.add_rule(
				"Opportunity", cls.site.endpoint, ["StageName", "Amount", "SystemModstamp"]
			),
		}

	@classmethod
	def tearDownClass(cls):
		cls.site.stop()
		cls.emulator.stop()
		super().tearDownClass()

	def setUp(self):
		self.token = run_token()
		configure_connector(
			[self.org.org_id],
			auth_flow="Client Credentials",
			login_url=self.emulator.url,
			consumer_key=self.org.connected_app.consumer_key,
			consumer_secret=self.org.connected_app.consumer_secret,
		)

	def deliver(self):
		"""Let the org send what is due, and assert Salesforce got an Ack for every message."""
		frappe.db.commit()  # nosemgrep: the site's web thread must see this test's records
		deliveries = self.org.outbound.deliver_due()
		frappe.db.commit()  # nosemgrep: and this test must see what the web thread wrote
		self.assertTrue(deliveries, "the org had nothing to send")
		self.assertTrue(all(delivery.acknowledged for delivery in deliveries), deliveries)
		return deliveries

	def opportunity_message(self, deliveries):
		return next(d for d in deliveries if d.rule == self.rules["Opportunity"].name)

	def make_account(self, **values) -> str:
		return self.org.create(
			"Account",
			{
				"Name": f"Kaveri Textiles {self.token}",
				"BillingStreet": "14 MG Road",
				"BillingCity": "Bengaluru",
				"BillingState": "KA",
				"BillingPostalCode": "560001",
				"GSTIN__c": build_gstin("29", random_pan()),
				**values,
			},
		)

	def make_product(self, code: str, name: str, price: float) -> str:
		product = self.org.create("Product2", {"Name": name, "ProductCode": code, "IsActive": True})
		self.org.create(
			"PricebookEntry",
			{
				"Pricebook2Id": self.org.standard_pricebook_id,
				"Product2Id": product,
				"UnitPrice": price,
				"IsActive": True,
			},
		)
		return product

	def make_opportunity(self, account: str, lines: list[tuple[str, float, float]], **values) -> str:
		opportunity = self.org.create(
			"Opportunity",
			{
				"Name": f"Uniforms {self.token}",
				"AccountId": account,
				"StageName": "Prospecting",
				"CloseDate": "2027-01-15",
				**values,
			},
		)
		for product, quantity, unit_price in lines:
			self.org.create(
				"OpportunityLineItem",
				{
					"OpportunityId": opportunity,
					"Product2Id": product,
					"Quantity": quantity,
					"UnitPrice": unit_price,
				},
			)
		return opportunity

	def quotations_for(self, opportunity: str) -> list[str]:
		return frappe.get_all("Quotation", filters={QUOTATION_OPPORTUNITY_FIELD: opportunity}, pluck="name")

	def sales_orders_for(self, opportunity: str) -> list[str]:
		return frappe.get_all("Sales Order", filters={"salesforce_opportunity_id": opportunity}, pluck="name")


class TestLeadsAndAccounts(SalesforceOrgTestCase):
	def test_converted_lead_becomes_customer_with_contact_and_address(self):
		mobile = random_mobile()
		lead = self.org.create(
			"Lead",
			{
				"Company": f"Sharma Traders {self.token}",
				"FirstName": "Asha",
				"LastName": "Sharma",
				"Email": f"asha.{self.token.lower()}@sharma.example",
				"Phone": f"0{mobile[:5]}-{mobile[5:]}",
				"Street": "12 Link Road",
				"City": "Pune",
				"State": "MH",
				"PostalCode": "411001",
				"Country": "India",
			},
		)
		self.deliver()
		converted = self.org.convert_lead(lead, create_opportunity=False)
		self.deliver()
		process_queued([lead])

		rows = logs_for(lead)
		self.assertEqual([row.status for row in rows], [SKIPPED, SUCCESS], rows)
		customer = frappe.get_doc("Customer", rows[-1].reference_name)
		self.assertEqual(customer.customer_name, f"Sharma Traders {self.token}")
		self.assertEqual(customer.salesforce_account_id, converted["accountId"])
		contact = frappe.get_doc("Contact", customer.customer_primary_contact)
		self.assertEqual(contact.email_id, f"asha.{self.token.lower()}@sharma.example")
		self.assertEqual(contact.mobile_no, f"+91{mobile}")
		address = frappe.get_doc(
			"Address",
			frappe.db.get_value(
				"Dynamic Link", {"link_name": customer.name, "parenttype": "Address"}, "parent"
			),
		)
		self.assertEqual(
			(address.city, address.state, address.country, address.pincode),
			("Pune", "Maharashtra", "India", "411001"),
		)

	def test_unconverted_lead_is_skipped_and_makes_no_customer(self):
		lead = self.org.create("Lead", {"Company": f"Open Lead {self.token}", "LastName": "Iyer"})

		self.deliver()
		process_queued([lead])

		rows = logs_for(lead)
		self.assertEqual([row.status for row in rows], [SKIPPED])
		self.assertIn("not converted", rows[0].error)
		self.assertFalse(frappe.db.exists("Customer", {"customer_name": f"Open Lead {self.token}"}))

	def test_account_then_its_converted_lead_make_one_customer(self):
		gstin = build_gstin("27", random_pan())
		account = self.make_account(GSTIN__c=gstin, BillingState="Maharashtra", BillingCity="Mumbai")
		lead = self.org.create(
			"Lead", {"Company": f"Same Firm {self.token}", "LastName": "Rao", "GSTIN__c": gstin}
		)
		self.org.convert_lead(lead, account_id=account, create_opportunity=False)

		self.deliver()
		process_queued([account, lead])

		customers = frappe.get_all("Customer", filters={"tax_id": gstin}, pluck="name")
		self.assertEqual(len(customers), 1)
		self.assertEqual(
			{row.reference_name for row in logs_for(lead) if row.status == SUCCESS}, {customers[0]}
		)

	def test_same_fields_under_a_new_notification_id_are_a_duplicate(self):
		account = self.make_account()
		first = next(d for d in self.deliver() if d.rule == self.rules["Account"].name)
		process_queued([account])

		again_id = "04l" + secrets.token_hex(8)[:12].upper() + "AAA"
		self.site.post(first.envelope.replace(first.notification_ids[0].encode(), again_id.encode()))
		process_queued([account])

		self.assertEqual([row.status for row in logs_for(account)], [SUCCESS, DUPLICATE])
		self.assertEqual(frappe.db.count("Customer", {"salesforce_account_id": account}), 1)

	def test_two_customers_with_one_gstin_need_review(self):
		gstin = build_gstin("33", random_pan())
		for suffix in ("A", "B"):
			frappe.get_doc(
				{
					"doctype": "Customer",
					"customer_name": f"Twin {suffix} {self.token}",
					"customer_group": frappe.db.get_value("Customer Group", {"is_group": 1}),
					"territory": frappe.db.get_value("Territory", {"is_group": 1}),
					"tax_id": gstin,
				}
			).insert()
		account = self.make_account(GSTIN__c=gstin, BillingState="TN", BillingCity="Chennai")

		self.deliver()
		process_queued([account])

		row = logs_for(account)[-1]
		self.assertEqual(row.status, NEEDS_REVIEW)
		self.assertIn(f"Twin A {self.token}", row.error)
		self.assertIn(f"Twin B {self.token}", row.error)
		self.assertFalse(frappe.db.exists("Customer", {"salesforce_account_id": account}))

	def test_an_account_taking_the_gstin_of_another_customer_needs_review_and_changes_nothing(self):
		first_gstin, second_gstin = build_gstin("33", random_pan()), build_gstin("33", random_pan())
		first = self.make_account(GSTIN__c=first_gstin, BillingState="TN", BillingCity="Chennai")
		second = self.make_account(GSTIN__c=second_gstin, BillingState="TN", BillingCity="Chennai")
		self.deliver()
		process_queued([first, second])
		customer_of = {
			account: frappe.db.get_value("Customer", {"salesforce_account_id": account})
			for account in (first, second)
		}

		self.org.update("Account", second, {"GSTIN__c": first_gstin})
		self.deliver()
		process_queued([second])

		row = logs_for(second)[-1]
		self.assertEqual(row.status, NEEDS_REVIEW, row.error)
		self.assertIn(customer_of[first], row.error)
		self.assertIn(first_gstin, row.error)
		self.assertEqual(frappe.db.get_value("Customer", customer_of[second], "tax_id"), second_gstin)

	def test_invalid_gstin_fails_the_row_naming_the_value(self):
		account = self.make_account(GSTIN__c="29ABCDE1234F1Z9")

		self.deliver()
		process_queued([account])

		row = logs_for(account)[-1]
		self.assertEqual(row.status, FAILED)
		self.assertIn("29ABCDE1234F1Z9", row.error)
		self.assertIn("GSTIN__c", row.error)


class TestOpportunities(SalesforceOrgTestCase):
	def setUp(self):
		super().setUp()
		self.shirt_code, self.trouser_code = f"SHIRT-{self.token}", f"TROUSER-{self.token}"
		make_item(self.shirt_code, f"Cotton Shirt {self.token}")
		make_item(self.trouser_code, f"Trouser {self.token}")
		self.shirt = self.make_product(self.shirt_code, f"Cotton Shirt {self.token}", 450)
		self.trouser = self.make_product(self.trouser_code, f"Trouser {self.token}", 700)
		self.account = self.make_account()

	def test_opportunity_with_products_becomes_draft_quotation(self):
		opportunity = self.make_opportunity(self.account, [(self.shirt, 10, 450), (self.trouser, 4, 690.5)])

		self.deliver()
		process_queued([opportunity])

		quotations = self.quotations_for(opportunity)
		self.assertEqual(len(quotations), 1, logs_for(opportunity))
		quotation = frappe.get_doc("Quotation", quotations[0])
		self.assertEqual(quotation.docstatus, 0)
		self.assertEqual(
			quotation.party_name, frappe.db.get_value("Customer", {"salesforce_account_id": self.account})
		)
		self.assertEqual(
			[(item.item_code, item.qty, item.rate) for item in quotation.items],
			[(self.shirt_code, 10, 450), (self.trouser_code, 4, 690.5)],
		)
		self.assertEqual(logs_for(opportunity)[-1].status, SUCCESS)

	def test_a_quotation_the_connector_made_can_be_deleted_and_its_log_row_stays(self):
		opportunity = self.make_opportunity(self.account, [(self.shirt, 1, 450)])
		self.deliver()
		process_queued([opportunity])
		[quotation] = self.quotations_for(opportunity)
		rows = [log.name for log in logs_for(opportunity) if log.reference_name == quotation]

		frappe.delete_doc("Quotation", quotation)

		self.assertFalse(frappe.db.exists("Quotation", quotation))
		self.assertTrue(rows)
		self.assertEqual(
			{frappe.db.get_value(SYNC_LOG, name, "reference_name") for name in rows}, {quotation}
		)

	def test_won_opportunity_becomes_submitted_sales_order_from_its_quotation(self):
		opportunity = self.make_opportunity(self.account, [(self.shirt, 3, 450)])
		self.deliver()
		process_queued([opportunity])

		self.org.update("Opportunity", opportunity, {"StageName": "Closed Won"})
		self.deliver()
		process_queued([opportunity])

		quotation = frappe.get_doc("Quotation", self.quotations_for(opportunity)[0])
		orders = self.sales_orders_for(opportunity)
		self.assertEqual(len(orders), 1, logs_for(opportunity))
		order = frappe.get_doc("Sales Order", orders[0])
		self.assertEqual(quotation.docstatus, 1)
		self.assertEqual(order.docstatus, 1)
		self.assertEqual({item.prevdoc_docname for item in order.items}, {quotation.name})
		self.assertGreater(str(order.delivery_date), str(order.transaction_date))

	def test_won_is_read_from_is_won_not_from_the_stage_label(self):
		self.org.rename_stage("Closed Won", "Deal Signed")
		try:
			opportunity = self.make_opportunity(self.account, [(self.shirt, 1, 450)], StageName="Deal Signed")
			self.deliver()
			process_queued([opportunity])
		finally:
			self.org.rename_stage("Deal Signed", "Closed Won")

		self.assertEqual(len(self.sales_orders_for(opportunity)), 1, logs_for(opportunity))

	def test_same_message_delivered_three_times_makes_one_of_each(self):
		opportunity = self.make_opportunity(self.account, [(self.shirt, 2, 450)], StageName="Closed Won")
		envelope = self.opportunity_message(self.deliver()).envelope

		for _ in range(2):
			self.assertEqual(self.site.post(envelope).status_code, 200)
		process_queued([opportunity])

		self.assertEqual(len(self.quotations_for(opportunity)), 1)
		self.assertEqual(len(self.sales_orders_for(opportunity)), 1)
		self.assertEqual(frappe.db.count("Customer", {"salesforce_account_id": self.account}), 1)
		rows = logs_for(opportunity)
		self.assertEqual(max(row.delivery_count for row in rows), 3)

	def test_out_of_order_messages_leave_one_quotation_and_one_order(self):
		opportunity = self.make_opportunity(self.account, [(self.shirt, 5, 450)])
		self.org.update("Opportunity", opportunity, {"StageName": "Closed Won"})
		self.org.outbound.reorder = True
		try:
			self.deliver()
		finally:
			self.org.outbound.reorder = False
		process_queued([opportunity])

		self.assertEqual(len(self.quotations_for(opportunity)), 1)
		self.assertEqual(len(self.sales_orders_for(opportunity)), 1)
		statuses = [row.status for row in logs_for(opportunity)]
		self.assertNotIn(FAILED, statuses)

	def test_older_version_arriving_after_a_newer_one_is_skipped_as_stale(self):
		opportunity = self.make_opportunity(self.account, [(self.shirt, 5, 450)])
		first = self.opportunity_message(self.deliver())
		process_queued([opportunity])
		self.org.clock.advance(seconds=60)
		self.org.update("Opportunity", opportunity, {"Name": f"Uniforms, revised {self.token}"})
		self.deliver()
		process_queued([opportunity])

		# the first version again, under a notification Id of its own, as a late retry of another
		# rule's message would bring it
		late_id = "04l" + secrets.token_hex(8)[:12].upper() + "AAA"
		self.site.post(first.envelope.replace(first.notification_ids[0].encode(), late_id.encode()))
		process_queued([opportunity])

		late = logs_for(opportunity)[-1]
		self.assertEqual(late.status, SKIPPED)
		self.assertIn("Stale", late.error)
		self.assertEqual(
			frappe.db.get_value("Quotation", self.quotations_for(opportunity)[0], "title"),
			f"Uniforms, revised {self.token}",
		)

	def test_product_without_item_fails_naming_it_and_retry_succeeds_once_the_item_exists(self):
		code = f"BELT-{self.token}"
		belt = self.make_product(code, f"Leather Belt {self.token}", 300)
		opportunity = self.make_opportunity(self.account, [(belt, 2, 300)])

		self.deliver()
		process_queued([opportunity])

		failed = logs_for(opportunity)[-1]
		self.assertEqual(failed.status, FAILED)
		self.assertIn(code, failed.error)
		self.assertIn(f"Leather Belt {self.token}", failed.error)
		self.assertEqual(self.quotations_for(opportunity), [])

		make_item(code)
		queue_again(frappe.get_doc(SYNC_LOG, failed.name))
		process_queued([opportunity])

		self.assertEqual(frappe.db.get_value(SYNC_LOG, failed.name, "status"), SUCCESS)
		self.assertEqual(len(self.quotations_for(opportunity)), 1)

	def test_mapping_edited_in_desk_changes_the_next_quotation_and_a_differing_amount_is_noted(self):
		mapping = frappe.get_doc("Salesforce Field Mapping", "OpportunityLineItem to Quotation Item")
		rate_row = next(row for row in mapping.rows if row.erpnext_field == "rate")
		rate_row.transform_options = '{"precision": 0}'
		mapping.save()
		try:
			opportunity = self.make_opportunity(self.account, [(self.trouser, 4, 690.5)])
			self.deliver()
			process_queued([opportunity])
		finally:
			rate_row.transform_options = '{"precision": 2}'
			mapping.save()
			frappe.db.commit()  # nosemgrep: later tests must see the default mapping

		quotation = frappe.get_doc("Quotation", self.quotations_for(opportunity)[0])
		self.assertEqual(quotation.items[0].rate, 691)
		notes = logs_for(opportunity)[-1].notes or ""
		self.assertIn("2762", notes)
		self.assertIn("2764", notes)

	def test_opportunity_without_products_is_skipped(self):
		opportunity = self.make_opportunity(self.account, [])

		self.deliver()
		process_queued([opportunity])

		self.assertEqual(logs_for(opportunity)[-1].status, SKIPPED)
		self.assertEqual(self.quotations_for(opportunity), [])

	def test_opportunity_lost_before_it_was_quoted_makes_nothing_and_a_quoted_one_keeps_its_draft(self):
		lost_first = self.make_opportunity(self.account, [(self.shirt, 1, 450)], StageName="Closed Lost")
		quoted = self.make_opportunity(self.account, [(self.shirt, 2, 450)])
		self.deliver()
		process_queued([lost_first, quoted])

		self.org.update("Opportunity", quoted, {"StageName": "Closed Lost"})
		self.deliver()
		process_queued([quoted])

		self.assertEqual(logs_for(lost_first)[-1].status, SKIPPED)
		self.assertIn("closed without being won", logs_for(lost_first)[-1].error)
		self.assertEqual(self.quotations_for(lost_first), [])
		[draft] = self.quotations_for(quoted)
		self.assertEqual(frappe.db.get_value("Quotation", draft, "docstatus"), 0)
		self.assertEqual(logs_for(quoted)[-1].status, SUCCESS)
		self.assertIn("closed and not won", logs_for(quoted)[-1].notes)

	def test_salesforce_unavailable_fails_the_row_for_a_retry_that_then_succeeds(self):
		opportunity = self.make_opportunity(self.account, [(self.shirt, 1, 450)])
		self.deliver()
		self.org.faults.add("GET query*", service_unavailable(), times=1000)
		try:
			process_queued([opportunity])
		finally:
			self.org.faults.clear()

		row = frappe.get_doc(SYNC_LOG, logs_for(opportunity)[-1].name)
		self.assertEqual(row.status, FAILED, row.error)
		self.assertTrue(row.next_retry_at, row.error)
		self.assertIn("will retry", row.error)
		self.assertEqual(self.quotations_for(opportunity), [])

		queue_again(row)
		process_sync_log(row.name)

		self.assertEqual(frappe.db.get_value(SYNC_LOG, row.name, "status"), SUCCESS)
		self.assertEqual(len(self.quotations_for(opportunity)), 1)
