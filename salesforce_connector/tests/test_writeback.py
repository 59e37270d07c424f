"""ERPNext facts written back to the Opportunity and Account, on a real site against the local org.

Orders come the way they do in production: an Opportunity with products becomes a Quotation, and
winning it makes the Sales Order. Each test then does in ERPNext what a warehouse or an accountant
does, runs the outbox flush as the worker would, and reads the records in the org.
"""

import json
import socket
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import frappe
from frappe.utils import add_days, flt, now_datetime, nowdate

from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry
from erpnext.accounts.doctype.sales_invoice.sales_invoice import make_sales_return
from erpnext.selling.doctype.sales_order.sales_order import make_delivery_note, make_sales_invoice

from salesforce_connector.constants import (
	ACCOUNT,
	FAILED,
	FIELD_MAPPING,
	OPPORTUNITY,
	OUTBOUND,
	PENDING,
	PROCESSING,
	SUCCESS,
	SYNC_LOG,
)
from salesforce_connector.core.writeback import outbox_key, retry_delay
from salesforce_connector.emulator.faults import (
	request_limit_exceeded,
	server_error,
	service_unavailable,
	session_expired,
	slow,
	unable_to_lock_row,
)
from salesforce_connector.emulator.schema import Field
from salesforce_connector.emulator.seed import add_writeback_fields
from salesforce_connector.salesforce_connector.doctype.salesforce_sync_log.salesforce_sync_log import (
	queue_again,
)
from salesforce_connector.services.settings import get_salesforce_client
from salesforce_connector.services.writeback.outbox import mark_record, sales_order_sync_state
from salesforce_connector.tasks.inbound import process_sync_log
from salesforce_connector.tasks.outbound import flush_outbox
from salesforce_connector.tests.test_sales_flow import SalesforceOrgTestCase
from salesforce_connector.tests.utils import configure_connector, make_item, process_queued

OPPORTUNITY_FACTS = [
	"Fulfillment_Status__c",
	"Percent_Delivered__c",
	"Percent_Billed__c",
	"Delivery_Note_ID__c",
	"Delivery_Date__c",
	"Invoiced_Amount__c",
	"Outstanding_Amount__c",
	"Last_Payment_Date__c",
]


class WritebackTestCase(SalesforceOrgTestCase):
	"""An org with the write-back fields, and won orders made through the connector."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		add_writeback_fields(cls.org)

	def setUp(self):
		super().setUp()
		# rows an earlier run left waiting point at another org's records
		frappe.db.delete(SYNC_LOG, {"direction": OUTBOUND, "status": ["in", [PENDING, PROCESSING]]})
		frappe.db.commit()  # nosemgrep: the flush reads committed rows
		self.item_code = f"KURTA-{self.token}"
		make_item(self.item_code, f"Kurta {self.token}")
		self.product = self.make_product(self.item_code, f"Kurta {self.token}", 500)

	def configure(self, **values) -> None:
		"""The connection the class set up, with some values changed (an unreachable URL, a short timeout)."""
		settings = {
			"auth_flow": "Client Credentials",
			"login_url": self.emulator.url,
			"consumer_key": self.org.connected_app.consumer_key,
			"consumer_secret": self.org.connected_app.consumer_secret,
			"request_timeout": 30,
			**values,
		}
		configure_connector([self.org.org_id], **settings)

	def won_order(self, quantity: float = 3, account: str | None = None) -> tuple[str, str, str]:
		"""(Sales Order, Opportunity Id, Account Id): an Opportunity quoted, then won, through the connector."""
		account = account or self.make_account()
		opportunity = self.make_opportunity(account, [(self.product, quantity, 500)])
		self.deliver()
		process_queued([opportunity])
		self.org.update(OPPORTUNITY, opportunity, {"StageName": "Closed Won"})
		self.deliver()
		process_queued([opportunity])
		orders = self.sales_orders_for(opportunity)
		self.assertEqual(
			len(orders), 1, frappe.get_all(SYNC_LOG, {"salesforce_id": opportunity}, ["status", "error"])
		)
		return orders[0], opportunity, account

	def flush(self, client_factory=None):
		frappe.db.commit()  # nosemgrep: what the test did is committed, as a submit in Desk would be
		report = flush_outbox(wait_to_settle=False, client_factory=client_factory)
		frappe.db.commit()  # nosemgrep: and the test reads what the flush committed
		return report

	def salesforce(self, sobject: str, record_id: str, fields: list[str]) -> dict:
		record = self.org.get(sobject, record_id)
		return {name: _plain(record.get(name)) for name in fields}

	def outbox_row(self, sobject: str, record_id: str):
		return frappe.get_doc(SYNC_LOG, {"outbox_key": outbox_key(sobject, record_id)})

	def deliver_order(self, order: str, quantity: float | None = None) -> str:
		note = make_delivery_note(order)
		if quantity is not None:
			note.items[0].qty = quantity
		note.insert()
		note.submit()
		return note.name

	def invoice_order(self, order: str) -> str:
		invoice = make_sales_invoice(order)
		invoice.insert()
		invoice.submit()
		return invoice.name

	def pay_invoice(self, invoice: str) -> str:
		payment = get_payment_entry("Sales Invoice", invoice)
		payment.reference_no = f"UTR-{self.token}"
		payment.reference_date = nowdate()
		payment.insert()
		payment.submit()
		return payment.name

	def set_order_status(self, order: str, status: str) -> None:
		"""Close, Hold, or "Draft" to reopen and resume, as the order's buttons do, each its own request."""
		frappe.get_doc("Sales Order", order).update_status(status)
		frappe.db.commit()  # nosemgrep: each button press is a request of its own

	def sibling_order(self, order: str, account: str) -> tuple[str, str]:
		"""Another submitted order of the same customer for a new Opportunity, made without the round trip."""
		opportunity = self.make_opportunity(account, [])
		copy = frappe.copy_doc(frappe.get_doc("Sales Order", order))
		copy.salesforce_opportunity_id = opportunity
		copy.insert()
		copy.submit()
		return copy.name, opportunity

	def let_retry_waits_pass(self) -> None:
		frappe.db.sql(
			f"update `tab{SYNC_LOG}` set next_retry_at = %s where direction = %s and status = %s",
			(now_datetime() - timedelta(seconds=1), OUTBOUND, PENDING),
		)
		frappe.db.commit()  # nosemgrep: the flush reads committed rows

	@contextmanager
	def mapping_rows(
		self, name: str, rows: dict[str, str] | None = None, rename: dict[str, str] | None = None
	):
		"""Edit an ERPNext to Salesforce mapping as an admin would in Desk, and put it back afterwards."""
		mapping = frappe.get_doc(FIELD_MAPPING, name)
		original = [(row.erpnext_field, row.salesforce_field) for row in mapping.rows]
		for row in mapping.rows:
			row.salesforce_field = (rename or {}).get(row.salesforce_field, row.salesforce_field)
		for erpnext_field, salesforce_field in (rows or {}).items():
			mapping.append("rows", {"erpnext_field": erpnext_field, "salesforce_field": salesforce_field})
		mapping.save()
		frappe.db.commit()  # nosemgrep: the flush reads the saved mapping
		try:
			yield
		finally:
			mapping.reload()
			mapping.set("rows", [])
			for erpnext_field, salesforce_field in original:
				mapping.append("rows", {"erpnext_field": erpnext_field, "salesforce_field": salesforce_field})
			mapping.save()
			frappe.db.commit()  # nosemgrep: later tests use the default mapping


def single_try_client():
	"""The app's client, trying each call once, so that a flush meets each injected fault once."""
	client = get_salesforce_client()
	client.settings.retry_attempts = 1
	return client


def closed_port() -> int:
	with socket.socket() as probe:
		probe.bind(("127.0.0.1", 0))
		return probe.getsockname()[1]


def _plain(value):
	if isinstance(value, datetime):
		return value.isoformat()
	if isinstance(value, date):
		return value.isoformat()
	return value


class TestLeadToCashWriteback(WritebackTestCase):
	def test_each_step_from_order_to_payment_reaches_the_opportunity_and_account(self):
		order, opportunity, account = self.won_order(quantity=3)
		self.flush()

		transaction_date = str(frappe.db.get_value("Sales Order", order, "transaction_date"))
		self.assertEqual(
			self.salesforce(OPPORTUNITY, opportunity, OPPORTUNITY_FACTS),
			{
				"Fulfillment_Status__c": "To Deliver and Bill",
				"Percent_Delivered__c": 0,
				"Percent_Billed__c": 0,
				"Delivery_Note_ID__c": None,
				"Delivery_Date__c": None,
				"Invoiced_Amount__c": 0,
				"Outstanding_Amount__c": 0,
				"Last_Payment_Date__c": None,
			},
		)
		self.assertEqual(
			self.salesforce(ACCOUNT, account, ["Total_Outstanding__c", "Last_Order_Date__c"]),
			{"Total_Outstanding__c": 0, "Last_Order_Date__c": transaction_date},
		)

		note = self.deliver_order(order)
		self.flush()
		self.assertEqual(
			self.salesforce(
				OPPORTUNITY,
				opportunity,
				["Fulfillment_Status__c", "Percent_Delivered__c", "Delivery_Note_ID__c", "Delivery_Date__c"],
			),
			{
				"Fulfillment_Status__c": "To Bill",
				"Percent_Delivered__c": 100,
				"Delivery_Note_ID__c": note,
				"Delivery_Date__c": str(frappe.db.get_value("Delivery Note", note, "posting_date")),
			},
		)

		invoice = self.invoice_order(order)
		total = flt(frappe.db.get_value("Sales Invoice", invoice, "grand_total"))
		self.flush()
		self.assertEqual(
			self.salesforce(
				OPPORTUNITY,
				opportunity,
				["Fulfillment_Status__c", "Percent_Billed__c", "Invoiced_Amount__c", "Outstanding_Amount__c"],
			),
			{
				"Fulfillment_Status__c": "Completed",
				"Percent_Billed__c": 100,
				"Invoiced_Amount__c": total,
				"Outstanding_Amount__c": total,
			},
		)
		self.assertEqual(
			self.salesforce(ACCOUNT, account, ["Total_Outstanding__c"]), {"Total_Outstanding__c": total}
		)

		payment = self.pay_invoice(invoice)
		self.flush()
		self.assertEqual(
			self.salesforce(OPPORTUNITY, opportunity, ["Outstanding_Amount__c", "Last_Payment_Date__c"]),
			{
				"Outstanding_Amount__c": 0,
				"Last_Payment_Date__c": str(frappe.db.get_value("Payment Entry", payment, "posting_date")),
			},
		)
		self.assertEqual(
			self.salesforce(ACCOUNT, account, ["Total_Outstanding__c"]), {"Total_Outstanding__c": 0}
		)

	def test_cancelling_a_delivery_note_puts_the_previous_delivery_back(self):
		order, opportunity, _account = self.won_order(quantity=3)
		first = self.deliver_order(order, quantity=1)
		second = self.deliver_order(order, quantity=2)
		self.flush()
		self.assertEqual(
			self.salesforce(OPPORTUNITY, opportunity, ["Delivery_Note_ID__c"]),
			{"Delivery_Note_ID__c": second},
		)

		frappe.get_doc("Delivery Note", second).cancel()
		self.flush()

		self.assertEqual(
			self.salesforce(
				OPPORTUNITY,
				opportunity,
				["Fulfillment_Status__c", "Percent_Delivered__c", "Delivery_Note_ID__c", "Delivery_Date__c"],
			),
			{
				"Fulfillment_Status__c": "To Deliver and Bill",
				"Percent_Delivered__c": flt(frappe.db.get_value("Sales Order", order, "per_delivered")),
				"Delivery_Note_ID__c": first,
				"Delivery_Date__c": str(frappe.db.get_value("Delivery Note", first, "posting_date")),
			},
		)
		self.assertAlmostEqual(
			self.org.get(OPPORTUNITY, opportunity)["Percent_Delivered__c"], 33.33, places=2
		)

		frappe.get_doc("Delivery Note", first).cancel()
		self.flush()

		self.assertEqual(
			self.salesforce(
				OPPORTUNITY, opportunity, ["Percent_Delivered__c", "Delivery_Note_ID__c", "Delivery_Date__c"]
			),
			{"Percent_Delivered__c": 0, "Delivery_Note_ID__c": None, "Delivery_Date__c": None},
		)

	def test_hold_resume_and_close_of_the_order_reach_the_opportunity(self):
		order, opportunity, _account = self.won_order()
		self.flush()

		for status, expected in (
			("On Hold", "On Hold"),
			("Draft", "To Deliver and Bill"),
			("Closed", "Closed"),
		):
			self.set_order_status(order, status)
			self.flush()
			self.assertEqual(
				self.org.get(OPPORTUNITY, opportunity)["Fulfillment_Status__c"], expected, status
			)

	def test_update_after_submit_reaches_the_opportunity(self):
		order, opportunity, _account = self.won_order()
		self.flush()

		self.org.schema.get(OPPORTUNITY).add(Field("Customer_PO__c", custom=True))
		with self.mapping_rows("Sales Order to Opportunity", rows={"po_no": "Customer_PO__c"}):
			sales_order = frappe.get_doc("Sales Order", order)
			sales_order.po_no = f"PO-{self.token}"
			sales_order.save()
			self.flush()

		self.assertEqual(self.org.get(OPPORTUNITY, opportunity)["Customer_PO__c"], f"PO-{self.token}")

	def test_cancelling_the_order_reaches_the_opportunity_and_the_account(self):
		order, opportunity, account = self.won_order()
		self.flush()
		self.assertTrue(self.org.get(ACCOUNT, account)["Last_Order_Date__c"])

		frappe.get_doc("Sales Order", order).cancel()
		self.flush()

		self.assertEqual(self.org.get(OPPORTUNITY, opportunity)["Fulfillment_Status__c"], "Cancelled")
		self.assertIsNone(self.org.get(ACCOUNT, account)["Last_Order_Date__c"])

	def test_credit_note_and_cancelled_invoice_change_the_invoiced_and_outstanding_amounts(self):
		order, opportunity, account = self.won_order(quantity=3)
		invoice = self.invoice_order(order)
		total = flt(frappe.db.get_value("Sales Invoice", invoice, "grand_total"))

		credit_note = make_sales_return(invoice)
		credit_note.items[0].qty = -1
		credit_note.insert()
		credit_note.submit()
		self.flush()

		credited = flt(frappe.db.get_value("Sales Invoice", credit_note.name, "grand_total"))
		self.assertLess(credited, 0)
		self.assertEqual(
			self.salesforce(OPPORTUNITY, opportunity, ["Invoiced_Amount__c", "Outstanding_Amount__c"]),
			{"Invoiced_Amount__c": total + credited, "Outstanding_Amount__c": total + credited},
		)
		self.assertEqual(self.org.get(ACCOUNT, account)["Total_Outstanding__c"], total + credited)

		credit_note.reload()
		credit_note.cancel()
		self.flush()
		self.assertEqual(self.org.get(OPPORTUNITY, opportunity)["Invoiced_Amount__c"], total)

		frappe.get_doc("Sales Invoice", invoice).cancel()
		self.flush()
		self.assertEqual(
			self.salesforce(
				OPPORTUNITY, opportunity, ["Invoiced_Amount__c", "Outstanding_Amount__c", "Percent_Billed__c"]
			),
			{"Invoiced_Amount__c": 0, "Outstanding_Amount__c": 0, "Percent_Billed__c": 0},
		)
		self.assertEqual(self.org.get(ACCOUNT, account)["Total_Outstanding__c"], 0)

	def test_cancelled_payment_restores_the_outstanding_amount_and_last_payment_date(self):
		order, opportunity, account = self.won_order()
		invoice = self.invoice_order(order)
		total = flt(frappe.db.get_value("Sales Invoice", invoice, "grand_total"))
		payment = self.pay_invoice(invoice)
		self.flush()
		self.assertEqual(self.org.get(OPPORTUNITY, opportunity)["Outstanding_Amount__c"], 0)

		frappe.get_doc("Payment Entry", payment).cancel()
		self.flush()

		self.assertEqual(
			self.salesforce(OPPORTUNITY, opportunity, ["Outstanding_Amount__c", "Last_Payment_Date__c"]),
			{"Outstanding_Amount__c": total, "Last_Payment_Date__c": None},
		)
		self.assertEqual(self.org.get(ACCOUNT, account)["Total_Outstanding__c"], total)

	def test_order_made_by_hand_from_the_connectors_quotation_writes_to_its_opportunity(self):
		account = self.make_account()
		opportunity = self.make_opportunity(account, [(self.product, 2, 500)])
		self.deliver()
		process_queued([opportunity])
		quotation = frappe.get_doc("Quotation", self.quotations_for(opportunity)[0])
		quotation.submit()

		from erpnext.selling.doctype.quotation.quotation import make_sales_order

		order = make_sales_order(quotation.name)
		order.delivery_date = add_days(nowdate(), 7)
		order.insert()
		order.submit()
		self.assertFalse(order.salesforce_opportunity_id)
		self.flush()

		self.assertEqual(
			self.org.get(OPPORTUNITY, opportunity)["Fulfillment_Status__c"], "To Deliver and Bill"
		)


class TestOutbox(WritebackTestCase):
	def test_a_submit_makes_no_salesforce_call_and_leaves_the_record_pending(self):
		order, opportunity, _account = self.won_order()
		self.flush()
		calls_before = self.org.usage.used

		self.deliver_order(order)
		frappe.db.commit()  # nosemgrep: as the submit's request would

		self.assertEqual(self.org.usage.used, calls_before)
		self.assertEqual(self.outbox_row(OPPORTUNITY, opportunity).status, PENDING)
		self.assertIsNone(self.org.get(OPPORTUNITY, opportunity)["Delivery_Note_ID__c"])

	def test_eleven_status_changes_make_one_row_and_one_call(self):
		order, opportunity, _account = self.won_order()
		self.flush()
		written_before = self.outbox_row(OPPORTUNITY, opportunity).change_count
		calls_before = self.org.usage.used

		for _ in range(5):
			self.set_order_status(order, "On Hold")
			self.set_order_status(order, "Draft")
		self.set_order_status(order, "Closed")
		report = self.flush()

		row = self.outbox_row(OPPORTUNITY, opportunity)
		self.assertEqual(frappe.db.count(SYNC_LOG, {"direction": OUTBOUND, "salesforce_id": opportunity}), 1)
		self.assertEqual(row.change_count - written_before, 11)
		# the Account's facts did not change, so only the Opportunity is written
		self.assertEqual((self.org.usage.used - calls_before, report.calls, report.written), (1, 1, 1))
		self.assertEqual(self.org.get(OPPORTUNITY, opportunity)["Fulfillment_Status__c"], "Closed")

	def test_every_retryable_fault_keeps_the_batch_pending_until_salesforce_takes_it(self):
		order, opportunity, account = self.won_order()
		siblings = [self.sibling_order(order, account) for _ in range(2)]
		opportunities = [opportunity] + [each for _order, each in siblings]
		self.flush()
		for each in [order] + [name for name, _opportunity in siblings]:
			self.set_order_status(each, "On Hold")

		faults = [
			("Server temporarily unavailable", service_unavailable()),
			("unexpected error", server_error()),
			("Session expired", session_expired()),
			("TotalRequests Limit exceeded", request_limit_exceeded()),
			("unable to obtain exclusive access", unable_to_lock_row()),
			("did not answer in time", slow(3)),
		]
		for attempt, (reason, fault) in enumerate(faults, start=1):
			if fault.delay:
				self.configure(request_timeout=1)
			self.org.faults.add("PATCH composite/sobjects", fault, times=100)
			try:
				self.flush(client_factory=single_try_client)
			finally:
				self.org.faults.clear()

			for each in opportunities:
				row = self.outbox_row(OPPORTUNITY, each)
				self.assertEqual((row.status, row.attempts), (PENDING, attempt), row.error)
				self.assertIn(reason, row.error)
				self.assertEqual(row.next_retry_at - row.processed_at, retry_delay(attempt))
			if not fault.delay:
				self.assertEqual(
					[self.org.get(OPPORTUNITY, each)["Fulfillment_Status__c"] for each in opportunities],
					["To Deliver and Bill"] * 3,
				)
			self.let_retry_waits_pass()

		self.configure()
		self.flush()

		self.assertEqual(
			[self.org.get(OPPORTUNITY, each)["Fulfillment_Status__c"] for each in opportunities],
			["On Hold"] * 3,
		)
		self.assertEqual({self.outbox_row(OPPORTUNITY, each).status for each in opportunities}, {SUCCESS})

	def test_a_locked_record_waits_while_the_rest_of_its_batch_is_written(self):
		order, opportunity, account = self.won_order()
		sibling, other = self.sibling_order(order, account)
		self.flush()
		self.set_order_status(order, "On Hold")
		self.set_order_status(sibling, "On Hold")

		self.org.faults.add("PATCH composite/sobjects", unable_to_lock_row(opportunity), times=100)
		try:
			report = self.flush(client_factory=single_try_client)
		finally:
			self.org.faults.clear()

		self.assertEqual((report.calls, report.written, report.retrying), (1, 1, 1))
		self.assertEqual(self.outbox_row(OPPORTUNITY, opportunity).status, PENDING)
		self.assertEqual(self.org.get(OPPORTUNITY, other)["Fulfillment_Status__c"], "On Hold")

		self.let_retry_waits_pass()
		self.flush()
		self.assertEqual(self.org.get(OPPORTUNITY, opportunity)["Fulfillment_Status__c"], "On Hold")

	def test_a_validation_rule_fails_only_its_record_with_salesforces_reason_and_retry_writes_it(self):
		order, opportunity, account = self.won_order()
		sibling, other = self.sibling_order(order, account)
		self.flush()
		rule = self.org.add_validation_rule(
			OPPORTUNITY,
			"No_Hold_On_Key_Accounts",
			lambda record: record["Id"] == opportunity and record.get("Fulfillment_Status__c") == "On Hold",
			"Key account orders cannot be put on hold; call the account manager.",
			field="Fulfillment_Status__c",
		)
		try:
			self.set_order_status(order, "On Hold")
			self.set_order_status(sibling, "On Hold")
			self.flush()

			failed = self.outbox_row(OPPORTUNITY, opportunity)
			self.assertEqual(failed.status, FAILED)
			self.assertIn("FIELD_CUSTOM_VALIDATION_EXCEPTION", failed.error)
			self.assertIn("Key account orders cannot be put on hold", failed.error)
			self.assertIn("Fulfillment_Status__c", failed.error)
			self.assertIsNone(failed.next_retry_at)
			self.assertEqual(self.outbox_row(OPPORTUNITY, other).status, SUCCESS)
			self.assertEqual(self.org.get(OPPORTUNITY, other)["Fulfillment_Status__c"], "On Hold")
		finally:
			self.org.validation_rules.remove(rule)

		queue_again(failed)
		frappe.db.commit()  # nosemgrep: as the Retry button's request would
		self.assertEqual(frappe.db.get_value(SYNC_LOG, failed.name, "status"), PENDING)
		process_sync_log(failed.name)  # the inbound job Retry also queues leaves an outbound row alone
		self.assertEqual(frappe.db.get_value(SYNC_LOG, failed.name, "status"), PENDING)
		self.flush()

		self.assertEqual(self.outbox_row(OPPORTUNITY, opportunity).status, SUCCESS)
		self.assertEqual(self.org.get(OPPORTUNITY, opportunity)["Fulfillment_Status__c"], "On Hold")

	def test_a_deleted_opportunity_fails_its_row_naming_salesforces_reason(self):
		order, opportunity, _account = self.won_order()
		self.flush()
		self.org.delete(OPPORTUNITY, opportunity)

		self.set_order_status(order, "On Hold")
		self.flush()

		row = self.outbox_row(OPPORTUNITY, opportunity)
		self.assertEqual(row.status, FAILED)
		self.assertIn("ENTITY_IS_DELETED", row.error)

	def test_with_salesforce_unreachable_documents_submit_and_the_backlog_drains_later(self):
		order, opportunity, account = self.won_order()
		self.flush()
		self.configure(login_url=f"http://127.0.0.1:{closed_port()}")

		note = self.deliver_order(order)
		invoice = self.invoice_order(order)
		self.flush()

		for sobject, record in ((OPPORTUNITY, opportunity), (ACCOUNT, account)):
			row = self.outbox_row(sobject, record)
			self.assertEqual(row.status, PENDING)
			self.assertIn("will retry", row.error)
			self.assertIn("Cannot reach", row.error)
		self.assertIsNone(self.org.get(OPPORTUNITY, opportunity)["Delivery_Note_ID__c"])

		self.configure()
		self.let_retry_waits_pass()
		self.flush()

		total = flt(frappe.db.get_value("Sales Invoice", invoice, "grand_total"))
		self.assertEqual(
			self.salesforce(OPPORTUNITY, opportunity, ["Delivery_Note_ID__c", "Invoiced_Amount__c"]),
			{"Delivery_Note_ID__c": note, "Invoiced_Amount__c": total},
		)
		self.assertEqual(self.org.get(ACCOUNT, account)["Total_Outstanding__c"], total)


class TestWhatIsWritten(WritebackTestCase):
	def test_salesforces_own_change_coming_back_is_not_written_again(self):
		order, opportunity, _account = self.won_order()
		self.flush()
		self.deliver_order(order)
		self.flush()

		# the write changed the Opportunity, so the org's Outbound Message rule sends it to ERPNext
		self.deliver()
		process_queued([opportunity])
		self.assertEqual(self.outbox_row(OPPORTUNITY, opportunity).status, SUCCESS)

		calls_before_flush = self.org.usage.used
		report = self.flush()
		self.assertEqual((report.calls, self.org.usage.used), (0, calls_before_flush))

	def test_a_field_salesforce_owns_is_never_written(self):
		order, opportunity, _account = self.won_order()
		name_before = self.org.get(OPPORTUNITY, opportunity)["Name"]

		with self.mapping_rows("Sales Order to Opportunity", rows={"title": "Name"}):
			frappe.db.set_value("Sales Order", order, "title", f"Renamed in ERPNext {self.token}")
			self.set_order_status(order, "On Hold")
			self.flush()

		self.assertEqual(self.org.get(OPPORTUNITY, opportunity)["Name"], name_before)
		self.assertEqual(self.org.get(OPPORTUNITY, opportunity)["Fulfillment_Status__c"], "On Hold")
		self.assertIn("come from Salesforce: Name", self.outbox_row(OPPORTUNITY, opportunity).notes)

	def test_a_target_field_renamed_by_the_admin_is_the_one_written(self):
		order, opportunity, _account = self.won_order()
		self.org.schema.get(OPPORTUNITY).add(Field("Shipment_Number__c", custom=True))

		with self.mapping_rows(
			"Delivery Note to Opportunity", rename={"Delivery_Note_ID__c": "Shipment_Number__c"}
		):
			note = self.deliver_order(order)
			self.flush()

		record = self.org.get(OPPORTUNITY, opportunity)
		self.assertEqual((record["Shipment_Number__c"], record["Delivery_Note_ID__c"]), (note, None))

	def test_a_hand_edit_in_salesforce_stays_until_the_record_is_marked_again(self):
		order, opportunity, _account = self.won_order()
		self.flush()
		self.org.update(OPPORTUNITY, opportunity, {"Fulfillment_Status__c": "Completed"})

		# an event that changes none of the written facts sends nothing
		sales_order = frappe.get_doc("Sales Order", order)
		sales_order.po_no = f"PO-{self.token}"
		sales_order.save()
		report = self.flush()
		self.assertEqual(
			(report.calls, self.org.get(OPPORTUNITY, opportunity)["Fulfillment_Status__c"]), (0, "Completed")
		)

		mark_record(OPPORTUNITY, opportunity, "Sales Order", order)
		report = self.flush()

		self.assertEqual(report.calls, 1)
		self.assertEqual(
			self.org.get(OPPORTUNITY, opportunity)["Fulfillment_Status__c"], "To Deliver and Bill"
		)
		self.assertIn(
			"Percent_Billed__c", json.loads(self.outbox_row(OPPORTUNITY, opportunity).payload)["values"]
		)

	def test_the_sales_order_form_shows_the_sync_state(self):
		order, opportunity, account = self.won_order()

		pending = sales_order_sync_state(order)
		self.assertEqual(pending["label"], "Pending")
		self.assertEqual(set(pending["salesforce_ids"]), {opportunity, account})

		self.flush()
		self.assertEqual(sales_order_sync_state(order)["label"], "Synced")

		self.org.delete(OPPORTUNITY, opportunity)
		self.set_order_status(order, "On Hold")
		self.flush()
		failed = sales_order_sync_state(order)
		self.assertEqual(failed["label"], "Failed")
		self.assertIn(
			"ENTITY_IS_DELETED", next(row["error"] for row in failed["rows"] if row["status"] == FAILED)
		)
