"""What processing a Salesforce record would do, without doing it.

A preview reads the admin's mappings, the ERPNext documents the record would land in and, for an
Opportunity, the org over REST, and answers which documents would be created or updated with which
values, and which fields an update would keep because the other side owns them. It only reads:
nothing is inserted, saved or committed, so it is safe on a production site at any time.
"""

import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal

import frappe
from frappe import _

from salesforce_connector.constants import QUOTATION_OPPORTUNITY_FIELD, SYNC_LOG
from salesforce_connector.core.errors import ConnectorError, MappingError
from salesforce_connector.core.mapping import MappedRecord, map_record, plan_update
from salesforce_connector.core.matching import REVIEW
from salesforce_connector.core.transforms import TransformResult
from salesforce_connector.services.customers import _address_key, _find_contact, plan_customer
from salesforce_connector.services.mappings import (
	ERPNEXT_TRANSFORMS,
	document_version,
	load_mapping,
	map_to,
	plan_for,
)

CREATE = "Create"
UPDATE = "Update"
KEEP = "Leave as it is"
SKIP = "Skip"

# Salesforce key prefixes of the objects the connector processes (Salesforce Help, "Standard Field
# Record ID Prefix Decoder").
OBJECT_BY_PREFIX = {"00Q": "Lead", "001": "Account", "003": "Contact", "006": "Opportunity"}


@dataclass
class DocumentPreview:
	doctype: str
	action: str
	name: str | None = None
	values: dict = field(default_factory=dict)
	skipped: list[dict] = field(default_factory=list)
	lines: list[dict] = field(default_factory=list)


@dataclass
class Preview:
	salesforce_object: str
	salesforce_id: str | None
	documents: list[DocumentPreview] = field(default_factory=list)
	notes: list[str] = field(default_factory=list)
	error: str | None = None

	def as_dict(self) -> dict:
		return json.loads(json.dumps(asdict(self), default=_shown))


@frappe.whitelist()
def preview_sync_log(log_name: str) -> dict:
	"""What processing this Sync Log row's notification would do now."""
	frappe.only_for("System Manager")
	log = frappe.get_doc(SYNC_LOG, log_name)
	payload = json.loads(log.payload or "{}")
	if not payload.get("fields"):
		frappe.throw(_("Sync Log {0} carries no Salesforce record to preview.").format(log_name))
	return preview_record(payload["object_type"], payload["fields"]).as_dict()


@frappe.whitelist()
def preview_salesforce_record(salesforce_id: str) -> dict:
	"""What processing the record with this Id would do, reading it from the org first."""
	frappe.only_for("System Manager")
	salesforce_id = (salesforce_id or "").strip()
	salesforce_object = OBJECT_BY_PREFIX.get(salesforce_id[:3])
	if not salesforce_object or len(salesforce_id) not in (15, 18):
		frappe.throw(
			_("{0} is not the Id of a Lead, Account, Contact or Opportunity.").format(
				frappe.bold(salesforce_id)
			)
		)

	from salesforce_connector.services.settings import get_salesforce_client

	try:
		record = _read_record(get_salesforce_client(), salesforce_object, salesforce_id)
	except ConnectorError as error:
		frappe.throw(_("Salesforce could not be read: {0}").format(error.message))
	return preview_record(salesforce_object, record).as_dict()


def preview_record(salesforce_object: str, record: dict, client=None) -> Preview:
	"""The documents processing would produce from this record, as processing would decide them."""
	preview = Preview(salesforce_object, record.get("Id"))
	try:
		PREVIEWERS.get(salesforce_object, _preview_unhandled)(preview, record, client)
	except ConnectorError as error:
		preview.error = _("Processing would fail: {0}").format(error.message)
	return preview


def _read_record(client, salesforce_object: str, salesforce_id: str) -> dict:
	if salesforce_object == "Opportunity":
		return {"Id": salesforce_id}
	record = client.get_record(salesforce_object, salesforce_id)
	record.pop("attributes", None)
	return record


def _preview_unhandled(preview: Preview, record: dict, client) -> None:
	preview.notes.append(_("{0} is not an object the connector handles.").format(preview.salesforce_object))


def _preview_lead(preview: Preview, record: dict, client) -> None:
	if record.get("IsConverted") not in ("true", True):
		preview.notes.append(_("The Lead is not converted yet; processing skips it and makes nothing."))
		return
	_preview_customer(preview, "Lead", record)


def _preview_account(preview: Preview, record: dict, client) -> None:
	_preview_customer(preview, "Account", record)


def _preview_customer(preview: Preview, salesforce_object: str, record: dict) -> str | None:
	"""The Customer, Contact and Address a Lead or Account becomes; returns the Customer's name."""
	plan = plan_customer(salesforce_object, record)
	decision = plan.decision
	if decision.action == REVIEW:
		preview.notes.append(_("Needs Review: {0}").format(decision.reason))
		return None

	customer_values, contact_values, address_values = (
		plan.customer_values,
		plan.contact_values,
		plan.address_values,
	)
	account_id = plan.account_id
	if plan.joins_account:
		preview.notes.append(_("The Lead joins its Account's Customer, which keeps its name and address."))

	customer = frappe.get_doc("Customer", decision.customer) if decision.customer else None
	preview.documents.append(_document("Customer", customer, customer_values))
	if customer:
		preview.notes.append(_("Linked to the existing customer on {0}.").format(decision.matched_on))

	contact_name = _find_contact(customer.name, contact_values.values) if customer else None
	if _has_person(contact_values.values):
		contact = frappe.get_doc("Contact", contact_name) if contact_name else None
		preview.documents.append(_document("Contact", contact, contact_values))

	if address_values.values.get("address_line1") and address_values.values.get("city"):
		key = _address_key(record, account_id)
		address_name = frappe.db.get_value("Address", {"salesforce_address_key": key})
		address = frappe.get_doc("Address", address_name) if address_name else None
		preview.documents.append(_document("Address", address, address_values))
	elif address_values.values:
		preview.notes.append(_("No Address: ERPNext needs at least a street and a city."))
	return customer.name if customer else None


def _preview_contact(preview: Preview, record: dict, client) -> None:
	from salesforce_connector.services.inbound import _customer_for_account

	account_id = record.get("AccountId")
	if not account_id:
		preview.notes.append(_("The Contact belongs to no Account; processing parks it and makes nothing."))
		return

	customer = _customer_for_account(account_id)
	if customer is None:
		preview.notes.append(
			_(
				"No Customer is linked to Account {0} yet; processing reads the Account and makes it first."
			).format(account_id)
		)
	mapped = map_to("Contact", "Contact", record)
	name = _find_contact(customer, mapped.values) if customer else None
	preview.documents.append(_document("Contact", frappe.get_doc("Contact", name) if name else None, mapped))


def _preview_opportunity(preview: Preview, record: dict, client) -> None:
	from salesforce_connector.services.opportunities import (
		_is_won,
		_line_items,
		_mapped_fields_the_org_has,
		lost_before_quoted,
	)
	from salesforce_connector.services.settings import get_salesforce_client

	client = client or get_salesforce_client()
	opportunity = client.fetch_opportunity(
		record["Id"],
		account_fields=_mapped_fields_the_org_has(client, "Account", ("Customer", "Address")),
		opportunity_fields=_mapped_fields_the_org_has(client, "Opportunity", ("Quotation",)),
	)
	if lost_before_quoted(opportunity):
		preview.notes.append(
			_(
				"The Opportunity was closed without being won before it reached ERPNext; processing makes nothing."
			)
		)
		return

	customer = _preview_customer(
		preview, "Account", opportunity.get("Account") or {"Id": opportunity["AccountId"]}
	)

	lines = _line_items(opportunity)
	if not lines:
		preview.notes.append(_("The Opportunity has no products yet; processing makes no Quotation."))
		return

	quotation = _preview_quotation(preview, opportunity, lines, customer)
	if _is_won(opportunity):
		_preview_sales_order(preview, opportunity, quotation)


def _preview_quotation(preview: Preview, opportunity: dict, lines: list[dict], customer: str | None):
	names = frappe.get_all(
		"Quotation",
		filters={QUOTATION_OPPORTUNITY_FIELD: opportunity["Id"], "docstatus": ["<", 2]},
		pluck="name",
		order_by="creation desc",
		limit=1,
	)
	quotation = frappe.get_doc("Quotation", names[0]) if names else None
	if quotation and quotation.docstatus == 1:
		preview.documents.append(DocumentPreview("Quotation", KEEP, quotation.name))
		preview.notes.append(
			_("Quotation {0} is submitted; Salesforce changes stay out of it.").format(quotation.name)
		)
		return quotation

	# a Customer the preview would create has no name yet, so the party is shown as what it will be
	transforms = dict(ERPNEXT_TRANSFORMS)
	if customer is None:
		transforms["erpnext_customer"] = _new_customer_for
	header = _mapped("Opportunity", "Quotation", opportunity, transforms)
	document = _document("Quotation", quotation, header)
	document.lines = [_line(line, quotation, header) for line in lines]
	preview.documents.append(document)
	return quotation


def _line(line: dict, quotation, header: MappedRecord) -> dict:
	try:
		mapped = map_to("OpportunityLineItem", "Quotation Item", line)
	except MappingError as error:
		return {"values": {}, "error": error.message}

	existing = next(
		(
			item
			for item in (quotation.items if quotation else [])
			if item.salesforce_line_id == line.get("Id")
		),
		None,
	)
	if existing is None:
		return {"values": mapped.values, "skipped": []}
	# as processing does: a line is as new as the Opportunity it was read with
	mapped.changed_at = mapped.changed_at or header.changed_at
	plan = plan_update(mapped, document_version(quotation), current=existing.as_dict())
	kept = {skip.erpnext_field: existing.get(skip.erpnext_field) for skip in plan.skipped}
	return {"values": {**mapped.values, **kept}, "skipped": [_skipped(skip) for skip in plan.skipped]}


def _preview_sales_order(preview: Preview, opportunity: dict, quotation) -> None:
	existing = frappe.db.get_value(
		"Sales Order", {"salesforce_opportunity_id": opportunity["Id"], "docstatus": ["<", 2]}
	)
	if existing:
		preview.documents.append(DocumentPreview("Sales Order", KEEP, existing))
		return
	source = quotation.name if quotation else _("the new Quotation")
	preview.documents.append(DocumentPreview("Sales Order", CREATE, values={"from_quotation": source}))
	preview.notes.append(
		_("The Opportunity is won: the Quotation is submitted and a Sales Order made from it.")
	)


def _mapped(salesforce_object: str, doctype: str, record: dict, transforms: dict) -> MappedRecord:
	mapping = load_mapping(salesforce_object, doctype)
	if mapping is None:
		return MappedRecord()
	return map_record(mapping, record, extra_transforms=transforms, record_label=record.get("Id"))


def _new_customer_for(value, options) -> TransformResult:
	return TransformResult(_("(the new Customer for Account {0})").format(value))


def _document(doctype: str, existing, mapped: MappedRecord) -> DocumentPreview:
	if existing is None:
		return DocumentPreview(doctype, CREATE, values=mapped.values)

	plan = plan_for(existing, mapped)
	action = UPDATE if plan.values else KEEP
	return DocumentPreview(
		doctype, action, existing.name, values=plan.values, skipped=[_skipped(skip) for skip in plan.skipped]
	)


def _skipped(skip) -> dict:
	return {
		"field": skip.erpnext_field,
		"salesforce_field": skip.salesforce_field,
		"value": skip.value,
		"reason": skip.reason,
	}


def _has_person(values: dict) -> bool:
	return any(values.get(field) for field in ("first_name", "last_name", "email_id", "mobile_no", "phone"))


def _shown(value):
	if isinstance(value, Decimal):
		return str(value)
	if isinstance(value, datetime | date):
		return value.isoformat()
	return str(value)


PREVIEWERS = {
	"Lead": _preview_lead,
	"Account": _preview_account,
	"Contact": _preview_contact,
	"Opportunity": _preview_opportunity,
}
