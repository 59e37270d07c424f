"""What installing and migrating the app sets up on a site; both are safe to run again."""

import frappe
from frappe.custom.doctype.custom_field.custom_field import create_custom_fields

from salesforce_connector.constants import (
	ERPNEXT_TO_SALESFORCE,
	FIELD_MAPPING,
	QUOTATION_OPPORTUNITY_FIELD,
	SALESFORCE_TO_ERPNEXT,
)
from salesforce_connector.core.default_mappings import (
	DEFAULT_MAPPINGS,
	DEFAULT_WRITEBACK_MAPPINGS,
	default_source_of_truth,
)


def _id_field(fieldname, label, insert_after, **extra):
	return {
		"fieldname": fieldname,
		"label": label,
		"fieldtype": "Data",
		"insert_after": insert_after,
		"read_only": 1,
		"no_copy": 1,
		"search_index": 1,
		"translatable": 0,
		**extra,
	}


def _version_fields(insert_after):
	"""Which side changed the document last, so that an update can tell whose value is newer.

	The Salesforce version applied and the last ERPNext edit are kept in UTC; the sync time is the
	document's own `modified` right after the connector wrote it, so a later `modified` means
	someone else changed it since.
	"""
	hidden = {"hidden": 1, "search_index": 0, "fieldtype": "Datetime"}
	return [
		_id_field("salesforce_version", "Salesforce Version (UTC)", insert_after, **hidden),
		_id_field("salesforce_synced_at", "Synced from Salesforce At", "salesforce_version", **hidden),
		_id_field("salesforce_edited_at", "Edited in ERPNext At (UTC)", "salesforce_synced_at", **hidden),
	]


CUSTOM_FIELDS = {
	"Customer": [
		_id_field("salesforce_account_id", "Salesforce Account Id", "customer_group", read_only=0),
		_id_field("salesforce_lead_id", "Salesforce Lead Id", "salesforce_account_id"),
	],
	"Contact": [
		_id_field("salesforce_contact_id", "Salesforce Contact Id", "company_name"),
		_id_field("salesforce_lead_id", "Salesforce Lead Id", "salesforce_contact_id"),
	],
	"Address": [
		_id_field("salesforce_address_key", "Salesforce Address", "address_type"),
	],
	"Quotation": [
		_id_field(QUOTATION_OPPORTUNITY_FIELD, "Salesforce Opportunity Id", "order_type"),
	],
	"Quotation Item": [
		_id_field("salesforce_line_id", "Salesforce Line Item Id", "item_name", search_index=0, no_copy=0),
	],
	"Sales Order": [
		_id_field("salesforce_opportunity_id", "Salesforce Opportunity Id", "order_type"),
	],
}


VERSION_FIELDS = {
	"Customer": _version_fields("salesforce_lead_id"),
	"Contact": _version_fields("salesforce_lead_id"),
	"Address": _version_fields("salesforce_address_key"),
	"Quotation": _version_fields(QUOTATION_OPPORTUNITY_FIELD),
}


def after_install():
	create_salesforce_fields()
	create_default_mappings()
	create_default_writeback_mappings()


def after_migrate():
	create_salesforce_fields()
	create_default_mappings()
	create_default_writeback_mappings()
	fill_sources_of_truth()


def create_salesforce_fields():
	create_custom_fields(CUSTOM_FIELDS, ignore_validate=True, update=True)
	create_custom_fields(VERSION_FIELDS, ignore_validate=True, update=True)


def fill_sources_of_truth():
	"""Rows saved before rows had an owner get the default for their field; an admin's choice stays."""
	rows = frappe.get_all(
		"Salesforce Field Mapping Row",
		filters={"source_of_truth": ["is", "not set"], "parenttype": FIELD_MAPPING},
		fields=["name", "parent", "erpnext_field"],
	)
	for row in rows:
		doctype = frappe.db.get_value(FIELD_MAPPING, row.parent, "erpnext_doctype")
		owner = default_source_of_truth(doctype, row.erpnext_field)
		frappe.db.set_value("Salesforce Field Mapping Row", row.name, "source_of_truth", owner)


def create_default_mappings():
	"""Create each default mapping that does not exist yet; never touch one an admin already has."""
	for mapping in DEFAULT_MAPPINGS:
		if frappe.db.exists(
			FIELD_MAPPING,
			{"salesforce_object": mapping.salesforce_object, "erpnext_doctype": mapping.erpnext_doctype},
		):
			continue

		doc = frappe.new_doc(FIELD_MAPPING)
		doc.update(
			{
				"salesforce_object": mapping.salesforce_object,
				"erpnext_doctype": mapping.erpnext_doctype,
				"direction": SALESFORCE_TO_ERPNEXT,
				"enabled": 1,
			}
		)
		for rule in mapping.rules:
			doc.append(
				"rows",
				{
					"salesforce_field": rule.salesforce_field,
					"erpnext_field": rule.erpnext_field,
					"transform": rule.transform or "",
					"transform_options": frappe.as_json(rule.options) if rule.options else "",
					"is_match_key": int(rule.is_match_key),
					"source_of_truth": rule.source_of_truth,
				},
			)
		doc.insert(ignore_permissions=True)


def create_default_writeback_mappings():
	"""The ERPNext to Salesforce defaults, each made once; an admin's renamed fields stay as they are."""
	for mapping in DEFAULT_WRITEBACK_MAPPINGS:
		if frappe.db.exists(
			FIELD_MAPPING,
			{
				"salesforce_object": mapping.salesforce_object,
				"erpnext_doctype": mapping.erpnext_doctype,
				"direction": ERPNEXT_TO_SALESFORCE,
			},
		):
			continue

		doc = frappe.new_doc(FIELD_MAPPING)
		doc.update(
			{
				"salesforce_object": mapping.salesforce_object,
				"erpnext_doctype": mapping.erpnext_doctype,
				"direction": ERPNEXT_TO_SALESFORCE,
				"enabled": 1,
			}
		)
		for rule in mapping.rules:
			doc.append(
				"rows", {"salesforce_field": rule.salesforce_field, "erpnext_field": rule.erpnext_field}
			)
		doc.insert(ignore_permissions=True)
