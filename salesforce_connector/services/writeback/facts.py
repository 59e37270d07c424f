"""Which Salesforce records an ERPNext document touches, and what ERPNext knows about each of them.

An Opportunity is reached through its Sales Order: the order the connector made carries the
Opportunity Id, and an order a person made from the connector's Quotation carries it through the
Quotation. An Account is reached through the Customer that carries its Id.
"""

import logging

import frappe

from salesforce_connector.constants import ACCOUNT, OPPORTUNITY, QUOTATION_OPPORTUNITY_FIELD
from salesforce_connector.core.writeback import SourceFacts, id_18, split_fields

logger = logging.getLogger(__name__)

ORDER_OPPORTUNITY_FIELD = "salesforce_opportunity_id"
CUSTOMER_ACCOUNT_FIELD = "salesforce_account_id"

# how "the newest" related document is decided, per doctype
NEWEST_FIRST = {
	"Sales Order": "transaction_date desc, creation desc",
	"Delivery Note": "posting_date desc, posting_time desc, creation desc",
	"Sales Invoice": "posting_date desc, posting_time desc, creation desc",
	"Payment Entry": "posting_date desc, creation desc",
	"Customer": "creation desc",
}
SOURCE_DOCTYPES = {
	OPPORTUNITY: ("Sales Order", "Delivery Note", "Sales Invoice", "Payment Entry"),
	ACCOUNT: ("Customer", "Sales Order", "Delivery Note", "Sales Invoice", "Payment Entry"),
}


# at the event: which records need refreshing


def records_touched_by(doc) -> list[tuple[str, str]]:
	"""(sObject, Id) of every Opportunity and Account whose facts this document can change."""
	customers = set(_customers_of(doc))
	records = []
	for opportunity_id, customer in _order_links(doc):
		if opportunity_id:
			records.append((OPPORTUNITY, opportunity_id))
		if customer:
			customers.add(customer)

	for account_id in _accounts_of(customers):
		records.append((ACCOUNT, account_id))
	return [(sobject, record_id) for sobject, record_id in records if _is_salesforce_id(record_id)]


def _order_links(doc) -> list[tuple[str | None, str | None]]:
	if doc.doctype == "Sales Order":
		opportunity = doc.get(ORDER_OPPORTUNITY_FIELD) or _opportunity_of_quotations(
			{item.prevdoc_docname for item in doc.items if item.prevdoc_docname}
		)
		return [(opportunity, doc.customer)]

	orders = _orders_of(doc)
	if not orders:
		return []
	rows = frappe.get_all(
		"Sales Order",
		filters={"name": ["in", list(orders)]},
		fields=["name", ORDER_OPPORTUNITY_FIELD, "customer"],
	)
	return [
		(row.get(ORDER_OPPORTUNITY_FIELD) or _opportunity_of_order(row.name), row.customer) for row in rows
	]


def _orders_of(doc) -> set[str]:
	if doc.doctype == "Delivery Note":
		return {item.against_sales_order for item in doc.items if item.against_sales_order}
	if doc.doctype == "Sales Invoice":
		return {item.sales_order for item in doc.items if item.sales_order}
	if doc.doctype == "Payment Entry":
		orders = {ref.reference_name for ref in doc.references if ref.reference_doctype == "Sales Order"}
		invoices = [ref.reference_name for ref in doc.references if ref.reference_doctype == "Sales Invoice"]
		return orders | set(_orders_of_invoices(invoices))
	return set()


def _customers_of(doc) -> list[str]:
	if doc.doctype == "Payment Entry":
		return [doc.party] if doc.party_type == "Customer" and doc.party else []
	return [doc.customer] if doc.get("customer") else []


def _accounts_of(customers: set[str]) -> list[str]:
	accounts = (frappe.db.get_value("Customer", customer, CUSTOMER_ACCOUNT_FIELD) for customer in customers)
	return [account for account in accounts if account]


def _opportunity_of_order(order: str) -> str | None:
	quotations = frappe.get_all(
		"Sales Order Item",
		filters={"parent": order, "parenttype": "Sales Order", "prevdoc_docname": ["is", "set"]},
		pluck="prevdoc_docname",
		distinct=True,
	)
	return _opportunity_of_quotations(set(quotations))


def _opportunity_of_quotations(quotations: set[str]) -> str | None:
	if not quotations:
		return None
	found = frappe.get_all(
		"Quotation",
		filters={"name": ["in", list(quotations)], QUOTATION_OPPORTUNITY_FIELD: ["is", "set"]},
		pluck=QUOTATION_OPPORTUNITY_FIELD,
		limit=1,
	)
	return found[0] if found else None


def _orders_of_invoices(invoices: list[str]) -> list[str]:
	if not invoices:
		return []
	return frappe.get_all(
		"Sales Invoice Item",
		filters={"parent": ["in", invoices], "parenttype": "Sales Invoice", "sales_order": ["is", "set"]},
		pluck="sales_order",
		distinct=True,
	)


def _is_salesforce_id(record_id) -> bool:
	# a Customer's Account Id can be typed by hand; a wrong one must not stop a submit
	try:
		id_18(record_id)
	except ValueError:
		logger.warning("not a Salesforce Id, nothing written back: %r", record_id)
		return False
	return True


# at the flush: what ERPNext knows about one record


def related_documents(salesforce_object: str, salesforce_id: str) -> dict[str, dict] | None:
	"""Frappe filters for the documents of each source doctype, or None when the record has none.

	An Opportunity without a submitted or cancelled Sales Order has no facts yet.
	"""
	if salesforce_object == OPPORTUNITY:
		return _opportunity_documents(salesforce_id)
	if salesforce_object == ACCOUNT:
		return _account_documents(salesforce_id)
	return None


def _opportunity_documents(opportunity_id: str) -> dict[str, dict] | None:
	order = order_of_opportunity(opportunity_id)
	if not order:
		return None

	# TODO: an invoice that bills several orders counts whole for each of their Opportunities —
	# summing its Sales Invoice Item amounts per order would unblock it (outstanding has no split).
	invoices = _parents("Sales Invoice Item", {"sales_order": order})
	# TODO: a payment by Journal Entry or by Payment Reconciliation neither marks the record nor
	# counts as its last payment (the invoices' outstanding is right at the next flush) — reading
	# and hooking the Payment Ledger Entries of the order's invoices would unblock it.
	payments = _parents(
		"Payment Entry Reference", {"reference_doctype": "Sales Order", "reference_name": order}
	)
	if invoices:
		payments |= _parents(
			"Payment Entry Reference",
			{"reference_doctype": "Sales Invoice", "reference_name": ["in", list(invoices)]},
		)
	return {
		"Sales Order": {"name": order},
		"Delivery Note": _named(_parents("Delivery Note Item", {"against_sales_order": order}), is_return=0),
		"Sales Invoice": _named(invoices),
		"Payment Entry": _named(payments),
	}


def _account_documents(account_id: str) -> dict[str, dict] | None:
	customers = frappe.get_all(
		"Customer", filters={CUSTOMER_ACCOUNT_FIELD: ["in", id_forms(account_id)]}, pluck="name"
	)
	if not customers:
		return None

	of_customers = {"customer": ["in", customers], "docstatus": 1}
	return {
		"Customer": {"name": ["in", customers]},
		"Sales Order": of_customers,
		"Delivery Note": {**of_customers, "is_return": 0},
		"Sales Invoice": of_customers,
		"Payment Entry": {
			"party_type": "Customer",
			"party": ["in", customers],
			"docstatus": 1,
			"payment_type": "Receive",
		},
	}


def order_of_opportunity(opportunity_id: str) -> str | None:
	"""The Sales Order an Opportunity became: the newest submitted one, else the newest cancelled.

	TODO: a deal split into several submitted orders writes the newest order's facts only —
	summing the orders, as the Account's facts are, would unblock it.
	"""
	forms = id_forms(opportunity_id)
	names = set(frappe.get_all("Sales Order", filters={ORDER_OPPORTUNITY_FIELD: ["in", forms]}, pluck="name"))
	quotations = frappe.get_all(
		"Quotation", filters={QUOTATION_OPPORTUNITY_FIELD: ["in", forms]}, pluck="name"
	)
	if quotations:
		names |= _parents("Sales Order Item", {"prevdoc_docname": ["in", quotations]}, docstatus=None)
	if not names:
		return None

	orders = frappe.get_all(
		"Sales Order",
		filters={"name": ["in", list(names)], "docstatus": [">", 0]},
		fields=["name", "docstatus"],
		order_by="creation desc",
	)
	submitted = [order.name for order in orders if order.docstatus == 1]
	return (submitted or [order.name for order in orders] or [None])[0]


def source_facts(
	doctype: str, filters: dict | None, fields: list[str], fieldtypes: dict[str, str]
) -> SourceFacts:
	"""The numeric fields summed over the documents, the others from the newest document."""
	if filters is None:
		return SourceFacts()

	numeric, latest_fields = split_fields(fields, fieldtypes)
	sums = {}
	if numeric:
		totals = frappe.get_all(
			doctype, filters=filters, fields=[f"sum(`{name}`) as `{name}`" for name in numeric]
		)
		sums = totals[0] if totals else {}
	latest = None
	if latest_fields:
		newest = frappe.get_all(
			doctype, filters=filters, fields=latest_fields, order_by=NEWEST_FIRST[doctype], limit=1
		)
		latest = newest[0] if newest else None
	return SourceFacts(sums=sums, latest=latest)


def id_forms(record_id: str) -> list[str]:
	"""The forms a stored Id may take: as Salesforce sent it, 15 and 18 characters."""
	return sorted({record_id, record_id[:15], id_18(record_id)})


def _parents(child_doctype: str, filters: dict, docstatus: int | None = 1) -> set[str]:
	if docstatus is not None:
		filters = {**filters, "docstatus": docstatus}
	return set(frappe.get_all(child_doctype, filters=filters, pluck="parent", distinct=True))


def _named(names: set[str], **extra) -> dict | None:
	# no related document at all: no query, and the facts are empty
	return {"name": ["in", sorted(names)], **extra} if names else None
