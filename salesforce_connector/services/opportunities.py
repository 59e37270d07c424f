"""A Salesforce Opportunity becomes a draft Quotation, and a won one a submitted Sales Order."""

from decimal import Decimal

import frappe
from frappe.utils import add_days, getdate, nowdate

from salesforce_connector.constants import QUOTATION_OPPORTUNITY_FIELD, SKIPPED, SUCCESS
from salesforce_connector.core.errors import ConnectorError, MappingError
from salesforce_connector.core.mapping import (
	VERSION_FIELDS,
	MappedRecord,
	ObjectMapping,
	plan_update,
	salesforce_changed_at,
)
from salesforce_connector.services.customers import sync_customer
from salesforce_connector.services.mappings import (
	customer_for_account,
	document_version,
	erpnext_item,
	load_mapping,
	map_to,
	mark_synced,
	plan_for,
)
from salesforce_connector.services.outcome import Outcome
from salesforce_connector.services.settings import connector_defaults, get_salesforce_client, shared_run
from salesforce_connector.services.sync_log import site_datetime

# Salesforce rounds currency to the org's decimal places; a cent is noise, more is a difference.
AMOUNT_TOLERANCE = Decimal("0.01")


def sync_opportunity(opportunity_id: str, client=None) -> Outcome:
	"""Read the Opportunity with its Account and lines over REST, then bring ERPNext in line.

	An Outbound Message carries one object's own fields only, never the Account or the products,
	so the message is a signal and the REST read is the truth. Reading at processing time also means
	an older message processed late still sees the newest state.
	"""
	client = client or get_salesforce_client()
	opportunity = client.fetch_opportunity(
		opportunity_id,
		account_fields=_mapped_fields_the_org_has(client, "Account", ("Customer", "Address")),
		opportunity_fields=_mapped_fields_the_org_has(client, "Opportunity", ("Quotation",)),
	)
	lines = _line_items(opportunity)
	if lost_before_quoted(opportunity):
		return Outcome(
			SKIPPED,
			reason="The Opportunity was closed without being won before it reached ERPNext; nothing to quote.",
		)
	if not opportunity.get("AccountId"):
		raise ConnectorError(
			"The Opportunity has no Account; give it one in Salesforce, then retry this row."
		)

	account_outcome = _sync_account(opportunity.get("Account") or {"Id": opportunity["AccountId"]})
	if account_outcome.status != SUCCESS:
		account_outcome.reason = f"The Opportunity's Account: {account_outcome.reason}"
		return account_outcome

	if not lines:
		return Outcome(SKIPPED, reason="The Opportunity has no products yet; nothing to quote.")

	_ensure_items_exist(lines)
	quotation, notes, verb = _upsert_quotation(opportunity, lines)
	notes += _amount_difference(opportunity, quotation)

	outcome = Outcome(
		SUCCESS,
		reason=f"{verb} Quotation {quotation.name}",
		reference_doctype="Quotation",
		reference_name=quotation.name,
		notes=notes,
		applied_modstamp=site_datetime(opportunity.get("SystemModstamp")),
	)
	if _is_won(opportunity):
		sales_order = _ensure_sales_order(quotation, opportunity)
		outcome.reason = f"Won: Sales Order {sales_order} from Quotation {quotation.name}"
		outcome.reference_doctype, outcome.reference_name = "Sales Order", sales_order
	elif _is_lost(opportunity):
		notes.append("The Opportunity is closed and not won; the Quotation is left for a person to close.")
	return outcome


def _sync_account(account: dict) -> Outcome:
	if shared_run() is not None and _customer_holds_version_of(account):
		return Outcome(SUCCESS, reason="The Account's Customer already holds this version of it.")
	return sync_customer("Account", account)


def _customer_holds_version_of(account: dict) -> bool:
	"""Whether the Account's Customer was last written from exactly this version of the Account.

	Asked within a backfill only, where many Opportunities of one Account come in a row and the
	first brought the Account in: the others would write the same values again. The check reads
	what is committed, so a dry run's rolled-back Customers are never taken as held. A live
	message always syncs the Account, so that a mapping edited in Desk applies to the next one.
	"""
	changed_at = salesforce_changed_at(account)
	customer = customer_for_account(account["Id"]) if changed_at else None
	if not customer:
		return False

	held = frappe.db.get_value(
		"Customer",
		customer,
		["salesforce_version", "salesforce_edited_at", "salesforce_synced_at", "modified"],
		as_dict=True,
	)
	return document_version(held).applied_at == changed_at


def _mapped_fields_the_org_has(client, salesforce_object: str, doctypes: tuple[str, ...]) -> list[str]:
	"""The object's own fields the admin's mappings read, less those this org does not have.

	A default row may name a custom field (GSTIN__c) that an org never created; asking for it would
	fail the whole query with INVALID_FIELD, so it is left out and the row maps nothing.
	"""
	wanted = {
		rule.salesforce_field
		for doctype in doctypes
		for rule in (load_mapping(salesforce_object, doctype) or ObjectMapping("", "", ())).rules
		if "." not in rule.salesforce_field
	}
	# when the record changed, for the fields whose newest value wins
	wanted.update(VERSION_FIELDS)
	existing = {field["name"] for field in client.describe(salesforce_object).get("fields", [])}
	return sorted(wanted & existing)


def _is_won(opportunity: dict) -> bool:
	# Decided from IsWon, never from StageName: the standard "Closed Won" label is renamed by many
	# orgs, while IsWon is derived from the stage's Won flag. Reference: Object Reference,
	# "Opportunity" (IsWon, IsClosed) and "OpportunityStage".
	return opportunity.get("IsWon") in (True, "true")


def _is_lost(opportunity: dict) -> bool:
	# a lost deal of history (a backfill reads years of them) would otherwise be a draft to delete
	return opportunity.get("IsClosed") in (True, "true") and not _is_won(opportunity)


def lost_before_quoted(opportunity: dict) -> bool:
	"""Closed without being won while ERPNext had no Quotation for it: processing makes nothing."""
	return _is_lost(opportunity) and not _existing_quotation(opportunity["Id"])


def _line_items(opportunity: dict) -> list[dict]:
	# A child relationship comes back as a query result, or as null when there are no rows.
	related = opportunity.get("OpportunityLineItems") or {}
	return list(related.get("records") or [])


def _ensure_items_exist(lines: list[dict]) -> None:
	defaults = connector_defaults()
	for line in lines:
		product = line.get("Product2") or {}
		try:
			erpnext_item(product, {})
		except MappingError:
			if defaults.unknown_product_action != "Create Item":
				raise
			_create_item(product, defaults)


def _create_item(product: dict, defaults) -> None:
	code = (product.get("ProductCode") or product.get("Name") or "").strip()
	if not code:
		raise ConnectorError("A Product with neither ProductCode nor Name cannot become an Item.")

	item = frappe.new_doc("Item")
	item.update(
		{
			"item_code": code,
			"item_name": (product.get("Name") or code)[:140],
			"item_group": defaults.new_item_group or "All Item Groups",
			"is_stock_item": 0,
			"stock_uom": "Nos",
			"description": product.get("Description") or product.get("Name") or code,
		}
	)
	item.insert()


def _upsert_quotation(opportunity: dict, lines: list[dict]):
	header = map_to("Opportunity", "Quotation", opportunity)
	item_rows = [map_to("OpportunityLineItem", "Quotation Item", line) for line in lines]
	notes = header.warnings + [warning for row in item_rows for warning in row.warnings]

	quotation = _existing_quotation(opportunity["Id"])
	if quotation and quotation.docstatus == 1:
		notes.append(
			f"Quotation {quotation.name} is already submitted; later Salesforce changes stay out of it."
		)
		return quotation, notes, "Kept"

	plan = plan_for(quotation, header) if quotation else None
	verb = "Updated" if quotation else "Created"
	quotation = quotation or _new_quotation()
	header_values = plan.values if plan else header.values
	quotation.update({field: value for field, value in header_values.items() if value is not None})
	quotation.set(QUOTATION_OPPORTUNITY_FIELD, opportunity["Id"])
	items, item_notes = _planned_items(quotation, item_rows, header, plan)
	quotation.set("items", [])
	for values in items:
		quotation.append("items", _item_values(values))
	quotation.save()

	mark_synced(quotation, header.changed_at, plan)
	if plan:
		notes += plan.notes("Quotation", quotation.name) + item_notes
	return quotation, notes, verb


def _planned_items(quotation, item_rows: list[MappedRecord], header: MappedRecord, plan):
	"""The lines as Salesforce has them, keeping the fields of existing lines that ERPNext holds.

	Lines carry no modification time of their own in the query; a change to a line changes its
	Opportunity, so a line is as new as the Opportunity it was read with.
	"""
	existing_lines = {item.salesforce_line_id: item for item in quotation.items if item.salesforce_line_id}
	items, notes = [], []
	for row in item_rows:
		old = existing_lines.get(row.values.get("salesforce_line_id"))
		if plan is None or old is None:
			items.append(row.values)
			continue

		row.changed_at = row.changed_at or header.changed_at
		line_plan = plan_update(row, plan.existing, current=old.as_dict())
		items.append(
			{**row.values, **{skip.erpnext_field: old.get(skip.erpnext_field) for skip in line_plan.skipped}}
		)
		notes += line_plan.notes("Quotation Item", f"{quotation.name} row {old.idx}")
	return items, notes


def _existing_quotation(opportunity_id: str):
	names = frappe.get_all(
		"Quotation",
		filters={QUOTATION_OPPORTUNITY_FIELD: opportunity_id, "docstatus": ["<", 2]},
		pluck="name",
		order_by="creation desc",
		limit=1,
	)
	return frappe.get_doc("Quotation", names[0]) if names else None


def _new_quotation():
	defaults = connector_defaults()
	quotation = frappe.new_doc("Quotation")
	quotation.update(
		{
			"quotation_to": "Customer",
			"company": defaults.company,
			"transaction_date": nowdate(),
			"order_type": "Sales",
			"selling_price_list": defaults.selling_price_list,
			# a user default (the site's first currency) would otherwise win; an Opportunity in
			# another currency overrides this through the CurrencyIsoCode mapping row
			"currency": frappe.get_cached_value("Company", defaults.company, "default_currency"),
		}
	)
	return quotation


def _item_values(values: dict) -> dict:
	row = dict(values)
	for field in ("qty", "rate"):
		if isinstance(row.get(field), Decimal):
			row[field] = float(row[field])
	return row


def _amount_difference(opportunity: dict, quotation) -> list[str]:
	amount = opportunity.get("Amount")
	if amount is None:
		return []

	salesforce_amount = Decimal(str(amount))
	net_total = Decimal(str(quotation.net_total or 0))
	if abs(salesforce_amount - net_total) <= AMOUNT_TOLERANCE:
		return []
	return [
		f"Salesforce Amount {salesforce_amount} differs from Quotation {quotation.name} net total {net_total}."
	]


def _ensure_sales_order(quotation, opportunity: dict) -> str:
	"""Submit the Quotation and make its Sales Order once; a won Opportunity seen again finds it."""
	existing = frappe.db.get_value(
		"Sales Order", {"salesforce_opportunity_id": opportunity["Id"], "docstatus": ["<", 2]}
	)
	if existing:
		return existing

	if quotation.docstatus == 0:
		quotation.submit()

	from erpnext.selling.doctype.quotation.quotation import make_sales_order

	sales_order = make_sales_order(quotation.name)
	delivery_date = _delivery_date(opportunity)
	sales_order.salesforce_opportunity_id = opportunity["Id"]
	sales_order.delivery_date = delivery_date
	warehouse = connector_defaults().warehouse
	if warehouse:
		sales_order.set_warehouse = warehouse
	for item in sales_order.items:
		item.delivery_date = delivery_date
		if warehouse:
			item.warehouse = warehouse
	sales_order.insert()
	sales_order.submit()
	return sales_order.name


def _delivery_date(opportunity: dict):
	"""The later of today and the close date, plus the configured lead time."""
	start = getdate(nowdate())
	close_date = opportunity.get("CloseDate")
	if close_date and getdate(close_date) > start:
		start = getdate(close_date)
	return add_days(start, connector_defaults().delivery_lead_days)
