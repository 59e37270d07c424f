"""Reconciliation: do a period's won Opportunities and ERPNext's Sales Orders agree?

A gap is one of: a won Opportunity with no Sales Order; an order whose amount or currency is not the
Opportunity's; an Opportunity whose fulfilment status in Salesforce is not the order's; an open
Sales Order or draft Quotation whose Opportunity no longer exists. Each gap has a resync: the
Opportunity goes through the Outbound Message job again, the order's lines follow Salesforce, the
status is written back through the outbox, or the order of a deleted Opportunity is closed.
"""

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from decimal import Decimal

import frappe
from frappe import _

from salesforce_connector.constants import (
	ERPNEXT_TO_SALESFORCE,
	FIELD_MAPPING,
	INBOUND,
	QUOTATION_OPPORTUNITY_FIELD,
	SUCCESS,
	SYNC_LOG,
)
from salesforce_connector.core.backfill import Position, build_selection, read_rest
from salesforce_connector.core.transforms import apply_transform
from salesforce_connector.services.api_records import fields_to_read, process_record
from salesforce_connector.services.mappings import map_to
from salesforce_connector.services.opportunities import AMOUNT_TOLERANCE
from salesforce_connector.services.settings import get_salesforce_client

MISSING_ORDER = "No Sales Order"
AMOUNT_DIFFERS = "Amount differs"
CURRENCY_DIFFERS = "Currency differs"
STALE_FULFILMENT = "Fulfilment status stale in Salesforce"
DELETED = "Deleted in Salesforce"
ISSUES = (MISSING_ORDER, AMOUNT_DIFFERS, CURRENCY_DIFFERS, STALE_FULFILMENT, DELETED)

# ERPNext is done with these orders; nothing is left to reconcile on them
SETTLED_ORDER_STATUSES = ("Closed", "Completed")
CHUNK = 200
SOURCE = "Reconciliation"


@dataclass
class Gap:
	issue: str
	opportunity_id: str
	opportunity_name: str | None = None
	close_date: str | None = None
	salesforce_amount: Decimal | None = None
	salesforce_currency: str | None = None
	salesforce_status: str | None = None
	document_type: str | None = None
	document: str | None = None
	erpnext_amount: Decimal | None = None
	erpnext_currency: str | None = None
	erpnext_status: str | None = None
	detail: str = ""

	def as_row(self) -> dict:
		return asdict(self)


@dataclass(frozen=True)
class FulfilmentRule:
	"""Where the write-back puts a Sales Order's status on its Opportunity, if it does."""

	salesforce_field: str
	transform: str | None
	options: dict

	def expected(self, status: str):
		if not self.transform:
			return status
		return apply_transform(self.transform, status, field=self.salesforce_field, options=self.options)


# finding gaps


@dataclass(frozen=True)
class Period:
	"""Won Opportunities closing in these dates and ERPNext documents dated in them; one customer's, when
	given."""

	from_date: str
	to_date: str
	customer: str | None = None


def find_gaps(period: Period, client=None) -> Iterator[Gap]:
	"""Every gap of the period, won Opportunities first, then documents whose Opportunity is gone."""
	client = client or get_salesforce_client()
	fulfilment = fulfilment_rule(client)
	for page in _pages(_won_opportunities(client, period, fulfilment)):
		yield from _gaps_of_won(page, fulfilment)
	yield from _documents_of_deleted_opportunities(client, period)


def fulfilment_rule(client) -> FulfilmentRule | None:
	"""The enabled ERPNext → Salesforce row that writes Sales Order status, if the org has its field."""
	mapping = frappe.db.get_value(
		FIELD_MAPPING,
		{
			"direction": ERPNEXT_TO_SALESFORCE,
			"erpnext_doctype": "Sales Order",
			"salesforce_object": "Opportunity",
			"enabled": 1,
		},
	)
	if not mapping:
		return None
	row = next(
		(row for row in frappe.get_doc(FIELD_MAPPING, mapping).rows if row.erpnext_field == "status"), None
	)
	if row is None:
		return None
	known = {field["name"].lower() for field in client.describe("Opportunity").get("fields", [])}
	if row.salesforce_field.lower() not in known:
		return None
	return FulfilmentRule(
		row.salesforce_field, row.transform or None, json.loads(row.transform_options or "{}")
	)


def _won_opportunities(client, period: Period, fulfilment) -> Iterator[dict]:
	conditions = ["IsWon = true"]
	if period.customer:
		account = frappe.db.get_value("Customer", period.customer, "salesforce_account_id")
		if not account:
			return
		conditions.append(f"AccountId = {account}")

	wanted = [*fields_to_read("Opportunity"), *([fulfilment.salesforce_field] if fulfilment else [])]
	selection = build_selection(
		"Opportunity",
		client.describe("Opportunity"),
		wanted,
		date_field="CloseDate",
		since=str(period.from_date),
		until=str(period.to_date),
		conditions=conditions,
	)
	for fields, _position in read_rest(client, selection, Position(), limit=None):
		yield fields


def _gaps_of_won(opportunities: list[dict], fulfilment: FulfilmentRule | None) -> Iterator[Gap]:
	orders = _orders_by_opportunity([each["Id"] for each in opportunities])
	for opportunity in opportunities:
		gap = Gap(
			"",
			opportunity["Id"],
			opportunity.get("Name"),
			opportunity.get("CloseDate"),
			_decimal(opportunity.get("Amount")),
			opportunity.get("CurrencyIsoCode"),
			opportunity.get(fulfilment.salesforce_field) if fulfilment else None,
		)
		order = orders.get(opportunity["Id"])
		if order is None:
			yield _with(gap, MISSING_ORDER, "The Opportunity is won and no Sales Order was made from it.")
			continue

		gap.document_type, gap.document = "Sales Order", order.name
		gap.erpnext_amount, gap.erpnext_currency, gap.erpnext_status = (
			_decimal(order.net_total),
			order.currency,
			order.status,
		)
		yield from _order_differences(gap, fulfilment)


def _order_differences(gap: Gap, fulfilment: FulfilmentRule | None) -> Iterator[Gap]:
	if gap.salesforce_currency and gap.salesforce_currency != gap.erpnext_currency:
		yield _with(
			gap, CURRENCY_DIFFERS, f"Salesforce {gap.salesforce_currency}, ERPNext {gap.erpnext_currency}."
		)
	elif (
		gap.salesforce_amount is not None
		and abs(gap.salesforce_amount - gap.erpnext_amount) > AMOUNT_TOLERANCE
	):
		yield _with(
			gap,
			AMOUNT_DIFFERS,
			f"Salesforce Amount {gap.salesforce_amount}, order net total {gap.erpnext_amount}.",
		)

	if fulfilment and gap.erpnext_status not in (None, "Draft"):
		expected = fulfilment.expected(gap.erpnext_status)
		if (gap.salesforce_status or None) != (expected or None):
			yield _with(
				gap,
				STALE_FULFILMENT,
				f"{fulfilment.salesforce_field} is {gap.salesforce_status or 'empty'}, the order is {gap.erpnext_status}.",
			)


# TODO: Customers whose Account was deleted are not listed — an Account deleted in Salesforce says
# nothing about whether ERPNext still trades with the customer; a person's rule for that would.
def _documents_of_deleted_opportunities(client, period: Period) -> Iterator[Gap]:
	"""Open Sales Orders and draft Quotations of the period whose Opportunity Salesforce no longer has."""
	for page in _pages(_open_linked_documents(period)):
		alive = _existing_opportunities(client, {document.opportunity_id for document in page})
		for document in page:
			if document.opportunity_id not in alive:
				yield Gap(
					DELETED,
					document.opportunity_id,
					document_type=document.doctype,
					document=document.name,
					erpnext_amount=_decimal(document.net_total),
					erpnext_currency=document.currency,
					erpnext_status=document.status,
					detail="Salesforce has no such Opportunity (deleted, or emptied from the recycle bin).",
				)


def _open_linked_documents(period: Period) -> Iterator[dict]:
	fields = ["name", "net_total", "currency", "status"]
	dated = {"transaction_date": ["between", [period.from_date, period.to_date]]}
	for doctype, link, party, filters in (
		(
			"Sales Order",
			"salesforce_opportunity_id",
			"customer",
			{"docstatus": 1, "status": ["not in", SETTLED_ORDER_STATUSES]},
		),
		("Quotation", QUOTATION_OPPORTUNITY_FIELD, "party_name", {"docstatus": 0}),
	):
		if period.customer:
			filters[party] = period.customer
		for row in frappe.get_all(
			doctype,
			filters={**filters, **dated, link: ["is", "set"]},
			fields=[*fields, f"{link} as opportunity_id"],
		):
			row.doctype = doctype
			yield row


def _existing_opportunities(client, ids: set[str]) -> set[str]:
	# a query never returns deleted records; queryAll would (with IsDeleted = true)
	found = client.query("SELECT Id FROM Opportunity WHERE Id IN {ids}", ids=sorted(ids))
	return {record["Id"] for record in found}


def _orders_by_opportunity(opportunity_ids: list[str]) -> dict[str, dict]:
	orders = frappe.get_all(
		"Sales Order",
		filters={"salesforce_opportunity_id": ["in", opportunity_ids], "docstatus": ["<", 2]},
		fields=["name", "salesforce_opportunity_id", "net_total", "currency", "status"],
		order_by="creation asc",
	)
	return {order.salesforce_opportunity_id: order for order in orders}


def _pages(items, size: int = CHUNK) -> Iterator[list]:
	page = []
	for item in items:
		page.append(item)
		if len(page) == size:
			yield page
			page = []
	if page:
		yield page


def _with(gap: Gap, issue: str, detail: str) -> Gap:
	return Gap(**{**asdict(gap), "issue": issue, "detail": detail})


def _decimal(value) -> Decimal | None:
	return None if value in (None, "") else Decimal(str(value))


# resync


def resync(
	issue: str, opportunity_id: str, document_type: str | None = None, document: str | None = None
) -> str:
	"""Close one gap; the gap is checked again here, never taken from the caller on trust."""
	if issue not in ISSUES:
		frappe.throw(_("Unknown reconciliation issue: {0}").format(issue))

	client = get_salesforce_client()
	if issue == DELETED:
		return _close_documents_of_deleted(client, opportunity_id, document_type, document)

	opportunity = _opportunity(client, opportunity_id)
	if opportunity is None:
		return _(
			"Opportunity {0} no longer exists in Salesforce; reconcile again to see its documents."
		).format(opportunity_id)
	if issue == STALE_FULFILMENT:
		return _write_status_back(opportunity_id)

	results = [_through_the_job(opportunity)]
	if issue == AMOUNT_DIFFERS:
		results.append(_align_order_lines(client, opportunity_id))
	elif issue == CURRENCY_DIFFERS:
		results.append(
			_("A submitted Sales Order keeps its currency: cancel and amend it in the Opportunity's.")
		)
	# a new or changed order's status goes to Salesforce now, not on the write-back's next tick
	if fulfilment_rule(client) and _submitted_order(opportunity_id):
		results.append(_write_status_back(opportunity_id))
	return " ".join(filter(None, results))


def resync_all(gaps: list[Gap]) -> list[tuple[Gap, str]]:
	"""Resync every gap; one that cannot be closed says why and the others go on."""
	results = []
	for gap in gaps:
		try:
			outcome = resync(gap.issue, gap.opportunity_id, gap.document_type, gap.document)
			frappe.db.commit()  # nosemgrep: each gap is closed on its own
		except Exception as error:
			frappe.db.rollback()
			outcome = _("Not resynced: {0}").format(error)
		results.append((gap, outcome))
	return results


def _opportunity(client, opportunity_id: str) -> dict | None:
	selection = build_selection(
		"Opportunity",
		client.describe("Opportunity"),
		fields_to_read("Opportunity"),
		conditions=(f"Id = {opportunity_id}",),
	)
	return next((fields for fields, _position in read_rest(client, selection, Position(), limit=1)), None)


def _through_the_job(opportunity: dict) -> str:
	log_name, outcome = process_record("Opportunity", opportunity, SOURCE)
	status, error, document = frappe.db.get_value(SYNC_LOG, log_name, ["status", "error", "reference_name"])
	if status != SUCCESS:
		return _("Processed again, {0}: {1} (Sync Log {2}).").format(status, error or "", log_name)
	return _("Processed again ({0}): {1} (Sync Log {2}).").format(outcome, document, log_name)


def _align_order_lines(client, opportunity_id: str) -> str:
	"""Bring a submitted order's lines to the Opportunity's, with ERPNext's own Update Items."""
	from erpnext.controllers.accounts_controller import update_child_qty_rate

	name = _submitted_order(opportunity_id)
	if not name:
		return ""
	order = frappe.get_doc("Sales Order", name)
	if order.per_delivered or order.per_billed:
		return _("Sales Order {0} is partly delivered or billed; change its lines by hand.").format(name)

	lines = client.fetch_opportunity(opportunity_id)["OpportunityLineItems"]["records"]
	items = _order_items_for(
		order, [map_to("OpportunityLineItem", "Quotation Item", line).values for line in lines]
	)
	update_child_qty_rate("Sales Order", json.dumps(items, default=str), name)
	order.add_comment(
		"Comment",
		_("Lines set to those of Salesforce Opportunity {0} by reconciliation.").format(opportunity_id),
	)
	return _("Sales Order {0} now has the Opportunity's lines.").format(name)


def _order_items_for(order, lines: list[dict]) -> list[dict]:
	"""Update Items rows: an order line the Quotation line with this Salesforce Id became, or a new one."""
	by_line_id = {
		frappe.db.get_value("Quotation Item", item.quotation_item, "salesforce_line_id"): item
		for item in order.items
		if item.quotation_item
	}
	rows = []
	for values in lines:
		existing = by_line_id.get(values.get("salesforce_line_id"))
		rows.append(
			{
				"docname": existing.name if existing else None,
				"item_code": values["item_code"],
				"qty": float(values["qty"]),
				"rate": float(values["rate"]),
				"delivery_date": str(existing.delivery_date if existing else order.delivery_date),
				"conversion_factor": existing.conversion_factor if existing else 1,
				"uom": existing.uom
				if existing
				else frappe.db.get_value("Item", values["item_code"], "stock_uom"),
			}
		)
	return rows


def _write_status_back(opportunity_id: str) -> str:
	"""Mark the Opportunity in the write-back outbox, and flush it now rather than on the next tick."""
	from salesforce_connector.services.writeback.outbox import mark_record
	from salesforce_connector.tasks.outbound import flush_outbox

	order = _submitted_order(opportunity_id)
	if not order:
		return _("No submitted Sales Order to take the status from.")
	mark_record("Opportunity", opportunity_id, "Sales Order", order)
	frappe.db.commit()  # nosemgrep: the flush reads committed outbox rows
	flush_outbox(wait_to_settle=False)
	return _("The status of Sales Order {0} was written to the Opportunity.").format(order)


def _submitted_order(opportunity_id: str) -> str | None:
	return frappe.db.get_value(
		"Sales Order", {"salesforce_opportunity_id": opportunity_id, "docstatus": 1}, order_by="creation asc"
	)


def _close_documents_of_deleted(
	client, opportunity_id: str, document_type: str | None, document: str | None
) -> str:
	if _existing_opportunities(client, {opportunity_id}):
		return _("Opportunity {0} exists in Salesforce; nothing to close.").format(opportunity_id)

	if document_type == "Sales Order" and document:
		from erpnext.selling.doctype.sales_order.sales_order import update_status

		update_status("Closed", document)
		done = _("Sales Order {0} closed (Re-open undoes it)").format(document)
	elif document_type == "Quotation" and document:
		# the draft stays for a person to delete: Sync Log rows name it, and it may still be wanted
		frappe.db.set_value("Quotation", document, QUOTATION_OPPORTUNITY_FIELD, None)
		frappe.get_doc("Quotation", document).add_comment(
			"Comment",
			_("Salesforce Opportunity {0} was deleted; this draft no longer follows it.").format(
				opportunity_id
			),
		)
		done = _("draft Quotation {0} no longer follows it").format(document)
	else:
		frappe.throw(_("Say which document of Opportunity {0} to close.").format(opportunity_id))

	_log_action(opportunity_id, document_type, document, done)
	return _("Opportunity {0} was deleted in Salesforce: {1}.").format(opportunity_id, done)


def _log_action(opportunity_id: str, document_type: str, document: str, done: str) -> None:
	"""The connector's own action gets its Sync Log row, as every exchange does."""
	frappe.get_doc(
		{
			"doctype": SYNC_LOG,
			"direction": INBOUND,
			"status": SUCCESS,
			"salesforce_object": "Opportunity",
			"salesforce_id": opportunity_id,
			"notification_id": None,
			"reference_doctype": document_type if document_type != "Quotation" else None,
			"reference_name": document if document_type != "Quotation" else None,
			"notes": f"{SOURCE}: {done}.",
			"payload": json.dumps(
				{"source": SOURCE, "object_type": "Opportunity", "fields": {"Id": opportunity_id}}
			),
		}
	).insert(ignore_permissions=True)
