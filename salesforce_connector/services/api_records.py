"""Records read from the Salesforce API enter the pipeline the way an Outbound Message does.

Backfill, polling and reconciliation read records with SOQL instead of receiving them. Each record
becomes an inbound Sync Log row without a notification Id and is processed by the same job, so a
record read twice, or read and also delivered by an Outbound Message, still makes one document.
"""

import json
from decimal import Decimal, InvalidOperation

import frappe

from salesforce_connector.constants import (
	DUPLICATE,
	INBOUND,
	QUEUED,
	QUOTATION_OPPORTUNITY_FIELD,
	SKIPPED,
	SUCCESS,
	SYNC_LOG,
)
from salesforce_connector.core.freshness import parse_salesforce_datetime
from salesforce_connector.core.mapping import ObjectMapping
from salesforce_connector.services.mappings import load_mapping
from salesforce_connector.services.sync_log import site_datetime
from salesforce_connector.tasks.inbound import process_sync_log

# The ERPNext doctypes each object's mappings fill, and the fields its handler reads besides them.
MAPPED_DOCTYPES = {
	"Lead": ("Customer", "Contact", "Address"),
	"Account": ("Customer", "Contact", "Address"),
	"Contact": ("Contact",),
	"Opportunity": (),
}
HANDLER_FIELDS = {
	"Lead": ("IsConverted", "ConvertedAccountId", "ConvertedContactId"),
	"Account": (),
	"Contact": ("AccountId",),
	# the pipeline reads the Opportunity again over REST; these fields only tell one version from
	# another when two saves share a SystemModstamp second
	"Opportunity": (
		"Name",
		"StageName",
		"IsWon",
		"IsClosed",
		"Amount",
		"CloseDate",
		"AccountId",
		"CurrencyIsoCode",
	),
}
# A version a row with one of these statuses handled needs no second look.
HANDLED = (SUCCESS, DUPLICATE, SKIPPED)

# what a processed row counts as, beside created and updated
OUTCOME_OF_STATUS = {SKIPPED: "skipped", DUPLICATE: "unchanged"}


def fields_to_read(salesforce_object: str) -> list[str]:
	"""The record's own fields the admin's mappings and the handler read (no parent paths)."""
	wanted = list(HANDLER_FIELDS[salesforce_object])
	for doctype in MAPPED_DOCTYPES[salesforce_object]:
		mapping = load_mapping(salesforce_object, doctype) or ObjectMapping("", "", ())
		wanted += [rule.salesforce_field for rule in mapping.rules if "." not in rule.salesforce_field]
	return list(dict.fromkeys(wanted))


def version_handled(salesforce_object: str, fields: dict, statuses: tuple[str, ...] = HANDLED) -> bool:
	"""True when an inbound row already took this version of the record, or a newer one.

	SystemModstamp has whole seconds and two saves can share one, so an equal modstamp counts only
	when the fields agree (the job applies the same rule to a repeated message).
	"""
	modstamp = site_datetime(fields.get("SystemModstamp"))
	if modstamp is None:
		return False

	rows = frappe.get_all(
		SYNC_LOG,
		filters={
			"direction": INBOUND,
			"salesforce_object": salesforce_object,
			"salesforce_id": fields["Id"],
			"status": ["in", list(statuses)],
			"salesforce_modstamp": [">=", modstamp],
		},
		fields=["salesforce_modstamp", "payload"],
		order_by="salesforce_modstamp desc",
		limit=20,
	)
	return any(row.salesforce_modstamp > modstamp or _agreeing_fields(row.payload, fields) for row in rows)


def insert_log(salesforce_object: str, fields: dict, source: str) -> str:
	"""A Queued inbound row for one record read from the API; returns its name."""
	log = frappe.get_doc(
		{
			"doctype": SYNC_LOG,
			"direction": INBOUND,
			"status": QUEUED,
			"salesforce_object": salesforce_object,
			"salesforce_id": fields["Id"],
			# no notification: the unique column must hold NULL, which Frappe stores for a blank value
			"notification_id": None,
			"salesforce_modstamp": site_datetime(fields.get("SystemModstamp")),
			"delivery_count": 1,
			"payload": json.dumps(
				{"source": source, "object_type": salesforce_object, "fields": fields}, indent=1
			),
		}
	)
	log.insert(ignore_permissions=True)
	return log.name


def process_record(salesforce_object: str, fields: dict, source: str) -> tuple[str, str]:
	"""Process one record now through the job an Outbound Message gets: (row name, outcome)."""
	existed = document_exists(salesforce_object, fields)
	log_name = insert_log(salesforce_object, fields, source)
	frappe.db.commit()  # nosemgrep: the row must exist on its own before the job takes it
	process_sync_log(log_name)
	return log_name, outcome_of(frappe.db.get_value(SYNC_LOG, log_name, "status"), existed)


def outcome_of(status: str, existed: bool) -> str:
	if status == SUCCESS:
		return "updated" if existed else "created"
	return OUTCOME_OF_STATUS.get(status, "failed")


def document_exists(salesforce_object: str, fields: dict) -> bool:
	"""Whether ERPNext already holds what this record becomes."""
	record_id = fields["Id"]
	if salesforce_object == "Opportunity":
		return bool(
			frappe.db.exists("Quotation", {QUOTATION_OPPORTUNITY_FIELD: record_id, "docstatus": ["<", 2]})
			or frappe.db.exists(
				"Sales Order", {"salesforce_opportunity_id": record_id, "docstatus": ["<", 2]}
			)
		)
	if salesforce_object == "Contact":
		return bool(frappe.db.exists("Contact", {"salesforce_contact_id": record_id}))

	account_id = record_id if salesforce_object == "Account" else fields.get("ConvertedAccountId")
	if account_id and frappe.db.exists(
		"Customer", {"salesforce_account_id": ["like", f"{account_id[:15]}%"]}
	):
		return True
	return salesforce_object == "Lead" and bool(
		frappe.db.exists("Customer", {"salesforce_lead_id": record_id})
	)


def _agreeing_fields(payload: str | None, fields: dict) -> bool:
	"""Whether a row's fields and these agree on every field both carry.

	An Outbound Message carries the fields its admin chose and a query those the mappings read, so
	the two rarely carry the same set; a same-second save would differ in one they share.
	"""
	try:
		theirs = json.loads(payload or "{}").get("fields") or {}
	except ValueError:
		return False
	shared = theirs.keys() & fields.keys()
	return "SystemModstamp" in shared and all(_same_value(theirs[name], fields[name]) for name in shared)


def _same_value(one: str, other: str) -> bool:
	"""Text equal, or the same instant or number written two ways (a message writes `...000Z` and
	`2500.0` where REST writes `...000+0000` and `2500`)."""
	if one == other:
		return True
	one_time, other_time = parse_salesforce_datetime(one), parse_salesforce_datetime(other)
	if one_time and other_time:
		return one_time == other_time
	try:
		return Decimal(one) == Decimal(other)
	except (InvalidOperation, TypeError):
		return False
