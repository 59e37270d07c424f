"""Reading the admin's field mappings, the transforms that need the ERPNext database, and which side
of an update owns each field."""

import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pycountry

import frappe
from frappe.utils import get_datetime, get_system_timezone

from salesforce_connector.constants import FIELD_MAPPING, SALESFORCE_TO_ERPNEXT, SETTINGS
from salesforce_connector.core.default_mappings import default_source_of_truth
from salesforce_connector.core.errors import MappingError
from salesforce_connector.core.mapping import (
	DocumentVersion,
	FieldRule,
	MappedRecord,
	ObjectMapping,
	UpdatePlan,
	invisible_salesforce_fields,
	map_record,
	plan_update,
)
from salesforce_connector.core.salesforce_ids import same_salesforce_id
from salesforce_connector.core.transforms import TransformResult
from salesforce_connector.services.settings import shared_run


def load_mapping(salesforce_object: str, doctype: str) -> ObjectMapping | None:
	"""The enabled mapping for this pair, read fresh so that an edit in Desk applies to the next message.

	A long run (a backfill) reads each mapping once, when it first needs it.
	"""
	run = shared_run()
	if run is None:
		return _read_mapping(salesforce_object, doctype)
	if (salesforce_object, doctype) not in run.mappings:
		run.mappings[(salesforce_object, doctype)] = _read_mapping(salesforce_object, doctype)
	return run.mappings[(salesforce_object, doctype)]


def _read_mapping(salesforce_object: str, doctype: str) -> ObjectMapping | None:
	name = frappe.db.get_value(
		FIELD_MAPPING,
		{
			"salesforce_object": salesforce_object,
			"erpnext_doctype": doctype,
			"direction": SALESFORCE_TO_ERPNEXT,
			"enabled": 1,
		},
	)
	if not name:
		return None

	doc = frappe.get_doc(FIELD_MAPPING, name)
	return ObjectMapping(salesforce_object, doctype, tuple(_rule_from_row(row, doctype) for row in doc.rows))


def map_to(salesforce_object: str, doctype: str, record: dict) -> MappedRecord:
	"""Map a record with the admin's rules; an absent or disabled mapping maps nothing."""
	mapping = load_mapping(salesforce_object, doctype)
	if mapping is None:
		return MappedRecord()
	return map_record(mapping, record, extra_transforms=ERPNEXT_TRANSFORMS, record_label=record.get("Id"))


def _rule_from_row(row, doctype: str) -> FieldRule:
	try:
		options = json.loads(row.transform_options) if row.transform_options else {}
	except ValueError as error:
		raise MappingError(
			f"the transform options of {row.salesforce_field} → {row.erpnext_field} are not valid JSON"
		) from error

	return FieldRule(
		salesforce_field=row.salesforce_field.strip(),
		erpnext_field=row.erpnext_field.strip(),
		transform=row.transform or None,
		options=options,
		is_match_key=bool(row.is_match_key),
		source_of_truth=row.source_of_truth or default_source_of_truth(doctype, row.erpnext_field.strip()),
	)


def connection_configured() -> bool:
	"""Whether Settings name a Connected App to reach Salesforce's API with."""
	return bool(frappe.get_cached_doc(SETTINGS).consumer_key)


def invisible_fields_of(salesforce_object: str, paths: list[str]) -> dict[str, str]:
	"""The paths the integration user cannot read in the org, with the reason, from describe calls."""
	from salesforce_connector.services.settings import get_salesforce_client

	client = get_salesforce_client()
	return invisible_salesforce_fields(salesforce_object, paths, client.describe)


def plan_for(doc, mapped: MappedRecord) -> UpdatePlan:
	"""What an update of this existing document may take from the mapped Salesforce values.

	Make the plan before changing the document, and hand it to `mark_synced` after the last save.
	"""
	return plan_update(mapped, document_version(doc), current=doc.as_dict())


def document_version(doc) -> DocumentVersion:
	"""The Salesforce version the document holds and when ERPNext last changed it, both in UTC."""
	return DocumentVersion(applied_at=_utc(doc.get("salesforce_version")), edited_at=_edited_at(doc))


def mark_synced(doc, changed_at: datetime | None, plan: UpdatePlan | None = None) -> None:
	"""Remember that the connector has just written this document from a Salesforce version.

	Runs after the connector's last save of the document, so that the `modified` it records is the
	connector's own; a later `modified` then means someone else changed the document. `plan` is the
	update's plan, which knows the document's version from before; a created document has none.
	Does not touch `modified` itself.
	"""
	if doc is None or not doc.meta.has_field("salesforce_synced_at"):
		return

	before = plan.existing if plan else DocumentVersion()
	newest = max(filter(None, (before.applied_at, changed_at)), default=None)
	frappe.db.set_value(
		doc.doctype,
		doc.name,
		{
			"salesforce_version": _naive_utc(newest),
			"salesforce_edited_at": _naive_utc(before.edited_at),
			"salesforce_synced_at": frappe.db.get_value(doc.doctype, doc.name, "modified"),
		},
		update_modified=False,
	)


def _edited_at(doc) -> datetime | None:
	"""When ERPNext last changed the document, leaving the connector's own writes out."""
	remembered = _utc(doc.get("salesforce_edited_at"))
	synced_at = doc.get("salesforce_synced_at")
	if synced_at and get_datetime(doc.modified) <= get_datetime(synced_at):
		return remembered
	return max(filter(None, (remembered, site_time_as_utc(doc.modified))), default=None)


def site_time_as_utc(value) -> datetime | None:
	"""A datetime Frappe stored (naive, in the site's time zone) as an aware UTC datetime."""
	if not value:
		return None
	local = get_datetime(value).replace(tzinfo=ZoneInfo(get_system_timezone()))
	return local.astimezone(timezone.utc)


def _utc(value) -> datetime | None:
	# these hidden version fields keep Salesforce times naive in UTC, labelled so
	return get_datetime(value).replace(tzinfo=timezone.utc) if value else None


def _naive_utc(value: datetime | None):
	return value.astimezone(timezone.utc).replace(tzinfo=None) if value else None


def erpnext_country(value, options) -> TransformResult:
	"""A country as ERPNext names it, from its name or any ISO code (Salesforce orgs write USA, US, India)."""
	text = str(value).strip()
	exact = frappe.db.get_value("Country", {"name": text})
	if exact:
		return TransformResult(exact)

	try:
		iso = pycountry.countries.lookup(text)
	except LookupError:
		iso = None
	found = iso and frappe.db.get_value("Country", {"code": iso.alpha_2.lower()})
	if not found:
		raise MappingError(f"{text!r} is not a country ERPNext knows", value=value)
	return TransformResult(found)


def erpnext_customer(value, options) -> TransformResult:
	"""The Customer a Salesforce Account became; an Account not synced yet is an error, not a guess."""
	account_id = str(value).strip()
	customer = customer_for_account(account_id)
	if not customer:
		raise MappingError(f"no Customer is linked to Salesforce Account {account_id}", value=value)
	return TransformResult(customer)


def customer_for_account(account_id: str) -> str | None:
	"""The Customer linked to a Salesforce Account, by either form of its Id.

	MariaDB compares without case, so a prefix match can return Ids that differ only in case; the
	candidates are checked again the way Salesforce compares Ids.
	"""
	candidates = frappe.get_all(
		"Customer",
		filters={"salesforce_account_id": ["like", f"{account_id.strip()[:15]}%"]},
		fields=["name", "salesforce_account_id"],
		as_list=True,
	)
	return next((name for name, linked in candidates if same_salesforce_id(linked, account_id)), None)


def erpnext_item(value, options) -> TransformResult:
	"""The Item for a Product2: by ProductCode as item code first, then by Name as item name."""
	product = value if isinstance(value, dict) else {}
	code = (product.get("ProductCode") or "").strip()
	name = (product.get("Name") or "").strip()

	if code and frappe.db.exists("Item", code):
		return TransformResult(code)

	by_name = frappe.get_all("Item", filters={"item_name": name, "disabled": 0}, pluck="name") if name else []
	if len(by_name) == 1:
		return TransformResult(by_name[0])

	described = f"Product {name or '(no name)'} (ProductCode {code or 'empty'})"
	if len(by_name) > 1:
		raise MappingError(f"{described} matches several Items: {', '.join(by_name)}", value=code or name)
	raise MappingError(
		f"{described} has no matching Item in ERPNext. Create Item {code or name}, or set When a "
		"Product Has No Item to Create Item in Salesforce Settings, then press Retry",
		value=code or name,
	)


ERPNEXT_TRANSFORMS = {
	"erpnext_country": erpnext_country,
	"erpnext_customer": erpnext_customer,
	"erpnext_item": erpnext_item,
}


# The mapping sheet: every mapping, one line per row, in the layout of Frappe's Data Import. Rows
# carry no ID column, so an import replaces each mapping's rows with the sheet's, in the sheet's
# order, and a row deleted in Desk since the export comes back.
SHEET_FIELDS = {
	FIELD_MAPPING: ["name", "salesforce_object", "erpnext_doctype", "direction", "enabled"],
	"rows": [
		"salesforce_field",
		"erpnext_field",
		"transform",
		"source_of_truth",
		"is_match_key",
		"transform_options",
	],
}


def mapping_sheet_exporter(file_type: str = "Excel"):
	from frappe.core.doctype.data_import.exporter import Exporter

	return Exporter(FIELD_MAPPING, export_fields=SHEET_FIELDS, export_data=True, file_type=file_type)


@frappe.whitelist()
def download_mapping_sheet(file_type: str = "Excel") -> None:
	"""The mapping sheet as a download, built by Frappe's Data Export."""
	frappe.only_for("System Manager")
	mapping_sheet_exporter(file_type).build_response()


def save_mapping_sheet(file_type: str = "Excel") -> str:
	"""The mapping sheet as a private File; returns its URL, which Data Import reads."""
	from frappe.utils.csvutils import to_csv
	from frappe.utils.xlsxutils import make_xlsx

	rows = mapping_sheet_exporter(file_type).get_csv_array_for_export()
	if file_type == "Excel":
		content, extension = make_xlsx(rows, FIELD_MAPPING).getvalue(), "xlsx"
	else:
		content, extension = to_csv(rows).encode("utf-8"), "csv"
	file = frappe.get_doc(
		{
			"doctype": "File",
			"file_name": f"salesforce-field-mappings.{extension}",
			"content": content,
			"is_private": 1,
		}
	).insert(ignore_permissions=True)
	return file.file_url


@frappe.whitelist()
def import_mapping_sheet(file_url: str) -> str:
	"""Update the mappings from a sheet with Frappe's Data Import; returns the Data Import's name.

	Each mapping in the sheet is saved as an admin's edit would be, so the same checks apply
	(ERPNext fields that exist, Salesforce fields the integration user can see).
	"""
	frappe.only_for("System Manager")
	data_import = frappe.get_doc(
		{
			"doctype": "Data Import",
			"reference_doctype": FIELD_MAPPING,
			"import_type": "Update Existing Records",
			"import_file": file_url,
			"mute_emails": 1,
		}
	).insert()
	data_import.start_import()
	return data_import.name
