"""Reading the admin's field mappings, and the transforms that need the ERPNext database."""

import json

import pycountry

import frappe

from salesforce_connector.constants import FIELD_MAPPING, SALESFORCE_TO_ERPNEXT
from salesforce_connector.core.errors import MappingError
from salesforce_connector.core.mapping import FieldRule, MappedRecord, ObjectMapping, map_record
from salesforce_connector.core.salesforce_ids import same_salesforce_id
from salesforce_connector.core.transforms import TransformResult


def load_mapping(salesforce_object: str, doctype: str) -> ObjectMapping | None:
	"""The enabled mapping for this pair, read fresh so that an edit in Desk applies to the next message."""
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
	return ObjectMapping(salesforce_object, doctype, tuple(_rule_from_row(row) for row in doc.rows))


def map_to(salesforce_object: str, doctype: str, record: dict) -> MappedRecord:
	"""Map a record with the admin's rules; an absent or disabled mapping maps nothing."""
	mapping = load_mapping(salesforce_object, doctype)
	if mapping is None:
		return MappedRecord()
	return map_record(mapping, record, extra_transforms=ERPNEXT_TRANSFORMS, record_label=record.get("Id"))


def _rule_from_row(row) -> FieldRule:
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
	)


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
	raise MappingError(f"{described} has no matching Item in ERPNext", value=code or name)


ERPNEXT_TRANSFORMS = {
	"erpnext_country": erpnext_country,
	"erpnext_customer": erpnext_customer,
	"erpnext_item": erpnext_item,
}
