"""The data audit over Customers, Addresses and Contacts, and on request Salesforce's Accounts and
Leads, for the bench command and the Desk report."""

import logging
import re
from dataclasses import dataclass, field, replace

import frappe

from salesforce_connector.core.audit import (
	EMAIL,
	GSTIN,
	PHONE,
	STATE,
	DuplicateGroup,
	Finding,
	Fix,
	Party,
	Value,
	check_values,
	group_duplicates,
	safe_fixes,
)
from salesforce_connector.services.mappings import load_mapping

logger = logging.getLogger(__name__)

# Plain ERPNext keeps a GSTIN in tax_id, where foreign customers keep other tax numbers; a value is
# read as a GSTIN when it has a GSTIN's shape: fifteen characters starting with a state code.
GSTIN_SHAPE = re.compile(r"^[0-9]{2}[0-9A-Za-z]{13}$")
COMMENT_PREFIX = "Salesforce data audit"

# A Salesforce record is named ("Salesforce Account", Id) in findings: ERPNext has doctypes called
# Account and Lead of its own, and a record of Salesforce's must never be taken for one of them.
SALESFORCE_PARTY_PREFIX = "Salesforce "

# What is checked on each Salesforce object: field, kind, and the field holding its country. The
# GSTIN fields are those the admin's mappings read with the gstin transform.
SALESFORCE_AUDITED = {
	"Account": (
		("BillingState", STATE, "BillingCountry"),
		("ShippingState", STATE, "ShippingCountry"),
		("Phone", PHONE, "BillingCountry"),
	),
	"Lead": (
		("State", STATE, "Country"),
		("Phone", PHONE, "Country"),
		("MobilePhone", PHONE, "Country"),
		("Email", EMAIL, None),
	),
}
# a converted Lead lives on as an Account and a Contact; its own values are history
SALESFORCE_CONDITIONS = {"Account": "", "Lead": " WHERE IsConverted = false"}
MAPPED_DOCTYPES = ("Customer", "Contact", "Address")


@dataclass
class AuditResult:
	findings: list[Finding] = field(default_factory=list)
	duplicates: list[DuplicateGroup] = field(default_factory=list)
	changed: list[Fix] = field(default_factory=list)


def run_audit(
	*, fix: bool = False, customers: list[str] | None = None, salesforce: bool = False
) -> AuditResult:
	"""Audit every Customer with its Contacts and Addresses, or only the named customers'.

	With `fix`, the safe fixes are written and listed in `changed`; the findings are then those of
	the data as it is after the fixes, so a second run finds nothing left to fix. With `salesforce`,
	the org's Accounts and open Leads are read over the API and audited too; they are never fixed
	from here, since Salesforce owns them.
	"""
	values = collect_values(customers)
	result = AuditResult(findings=check_values(values))
	if fix:
		result.changed = apply_fixes(safe_fixes(result.findings), values)
		values = collect_values(customers)
		result.findings = check_values(values)

	result.duplicates = group_duplicates(values, preference=_preferred_parties())
	if salesforce:
		_add_salesforce_audit(result)
	return result


def _add_salesforce_audit(result: AuditResult) -> None:
	from salesforce_connector.services.settings import get_salesforce_client

	client = get_salesforce_client()
	values = []
	for salesforce_object in SALESFORCE_AUDITED:
		values += salesforce_values(client, salesforce_object)

	# the proposal stays, the fix goes: Salesforce's records are corrected in Salesforce
	result.findings += [replace(finding, fix=None) for finding in check_values(values)]
	result.duplicates += [
		replace(group, proposal=_salesforce_merge_proposal(group.parties))
		for group in group_duplicates(values)
	]


def salesforce_values(client, salesforce_object: str) -> list[Value]:
	"""The audited values of every record of the object, oldest first, streamed page by page."""
	available = {each["name"] for each in client.describe(salesforce_object).get("fields", [])}
	audited = [
		(name, kind, country)
		for name, kind, country in SALESFORCE_AUDITED[salesforce_object] + _gstin_fields(salesforce_object)
		if name in available
	]
	countries = {country for _, _, country in audited if country in available}
	columns = sorted({"Id", *(name for name, _, _ in audited), *countries})

	soql = (
		f"SELECT {', '.join(columns)} FROM {salesforce_object}"
		f"{SALESFORCE_CONDITIONS[salesforce_object]} ORDER BY CreatedDate, Id"
	)
	values = []
	for record in client.iter_query("{soql:literal}", soql=soql):
		values += _record_values(salesforce_object, record, audited)
	return values


def _record_values(salesforce_object: str, record: dict, audited: list[tuple]) -> list[Value]:
	party = (f"{SALESFORCE_PARTY_PREFIX}{salesforce_object}", record["Id"])
	return [
		Value(party[0], record["Id"], name, kind, str(record[name]), party, (party,), record.get(country))
		for name, kind, country in audited
		if record.get(name)
	]


def _gstin_fields(salesforce_object: str) -> tuple:
	names = {
		rule.salesforce_field
		for doctype in MAPPED_DOCTYPES
		for rule in getattr(load_mapping(salesforce_object, doctype), "rules", ())
		if rule.transform == "gstin" and "." not in rule.salesforce_field
	}
	return tuple((name, GSTIN, None) for name in sorted(names))


def _salesforce_merge_proposal(parties: tuple[Party, ...]) -> str:
	keep, *others = parties
	others_text = ", ".join(_salesforce_record(party) for party in others)
	return (
		f"Likely the same in Salesforce: check, then merge {others_text} into {_salesforce_record(keep)} "
		"(Salesforce's Merge button; a Lead is converted into the existing Account)"
	)


def _salesforce_record(party: Party) -> str:
	return f"{party[0].removeprefix(SALESFORCE_PARTY_PREFIX)} {party[1]}"


def collect_values(customers: list[str] | None = None) -> list[Value]:
	customer_names = customers if customers is not None else frappe.get_all("Customer", pluck="name")
	links = _links_to_customers("Address", customers) | _links_to_customers("Contact", customers)
	return (
		_customer_values(customer_names)
		+ _address_values(customers, links)
		+ _contact_values(customers, links)
	)


def apply_fixes(fixes: list[Fix], values: list[Value]) -> list[Fix]:
	"""Write each safe fix, say so on the document's timeline, and log it.

	A fix changes only how a value is written, not what it means, so the document's `modified` is
	left alone: a spelling made canonical must not count as an ERPNext edit when newest wins.
	"""
	documents = {(value.doctype, value.name): value.document for value in values}
	changed = []
	for each in fixes:
		if frappe.db.get_value(each.doctype, each.name, each.field) != each.old:
			continue
		frappe.db.set_value(each.doctype, each.name, each.field, each.new, update_modified=False)
		_note_on_timeline(documents.get((each.doctype, each.name), (each.doctype, each.name)), each)
		logger.info(
			"%s: %s %s %s %r -> %r", COMMENT_PREFIX, each.doctype, each.name, each.field, each.old, each.new
		)
		changed.append(each)
	return changed


def _note_on_timeline(document: Party, each: Fix) -> None:
	doctype, name = document
	frappe.get_doc(doctype, name).add_comment(
		"Info", f"{COMMENT_PREFIX}: {each.field} changed from {each.old!r} to {each.new!r}"
	)


def _customer_values(names: list[str]) -> list[Value]:
	has_gstin = frappe.get_meta("Customer").has_field("gstin")
	fields = ["name", "tax_id", "mobile_no", "email_id"] + (["gstin"] if has_gstin else [])
	values = []
	for row in _rows("Customer", fields, names):
		party = (("Customer", row.name),)
		if row.tax_id and GSTIN_SHAPE.match("".join(row.tax_id.split())):
			values.append(_value("Customer", row.name, "tax_id", GSTIN, row.tax_id, party))
		if has_gstin and row.gstin:
			values.append(_value("Customer", row.name, "gstin", GSTIN, row.gstin, party))
		values += _contact_points("Customer", row, party)
	return values


def _address_values(customers: list[str] | None, links: dict) -> list[Value]:
	has_gstin = frappe.get_meta("Address").has_field("gstin")
	fields = ["name", "state", "country", "phone", "email_id"] + (["gstin"] if has_gstin else [])
	names = _linked_names("Address", customers, links)
	values = []
	for row in _rows("Address", fields, names):
		party = _parties("Address", row.name, links)
		if row.state:
			values.append(_value("Address", row.name, "state", STATE, row.state, party, country=row.country))
		if has_gstin and row.gstin:
			values.append(_value("Address", row.name, "gstin", GSTIN, row.gstin, party))
		values += _contact_points("Address", row, party, country=row.country)
	return values


def _contact_values(customers: list[str] | None, links: dict) -> list[Value]:
	names = _linked_names("Contact", customers, links)
	values = []
	for row in _rows("Contact", ["name", "mobile_no", "phone", "email_id"], names):
		party = _parties("Contact", row.name, links)
		values += _contact_points("Contact", row, party)
	for child, column, kind in (("Contact Phone", "phone", PHONE), ("Contact Email", "email_id", EMAIL)):
		for row in frappe.get_all(child, filters=_child_filter(names), fields=["name", "parent", column]):
			party = _parties("Contact", row.parent, links)
			document = ("Contact", row.parent)
			values.append(Value(child, row.name, column, kind, row[column] or "", document, party))
	return values


def _contact_points(doctype: str, row, party, country: str | None = None) -> list[Value]:
	points = [("mobile_no", PHONE), ("phone", PHONE), ("email_id", EMAIL)]
	return [
		_value(doctype, row.name, column, kind, row.get(column), party, country=country)
		for column, kind in points
		if row.get(column)
	]


def _value(doctype, name, column, kind, text, party, country=None) -> Value:
	return Value(doctype, name, column, kind, text, (doctype, name), tuple(party), country)


def _rows(doctype: str, fields: list[str], names: list[str] | None) -> list:
	filters = {"name": ["in", names]} if names is not None else {}
	if names is not None and not names:
		return []
	return frappe.get_all(doctype, filters=filters, fields=fields, order_by="name")


def _child_filter(names: list[str] | None) -> dict:
	filters = {"parenttype": "Contact"}
	if names is not None:
		filters["parent"] = ["in", names or [""]]
	return filters


def _links_to_customers(parenttype: str, customers: list[str] | None) -> dict:
	filters = {"parenttype": parenttype, "link_doctype": "Customer"}
	if customers is not None:
		filters["link_name"] = ["in", customers or [""]]
	rows = frappe.get_all("Dynamic Link", filters=filters, fields=["parent", "link_name"])
	links: dict = {}
	for row in rows:
		links.setdefault((parenttype, row.parent), set()).add(("Customer", row.link_name))
	return links


def _linked_names(doctype: str, customers: list[str] | None, links: dict) -> list[str] | None:
	"""Only the documents linked to the audited customers; all of them when auditing everything."""
	if customers is None:
		return None
	return sorted(name for linked_doctype, name in links if linked_doctype == doctype)


def _parties(doctype: str, name: str, links: dict) -> tuple[Party, ...]:
	# a contact or address linked to no customer stands for itself
	return tuple(sorted(links.get((doctype, name), {(doctype, name)})))


def _preferred_parties() -> list[Party]:
	"""Customers already linked to Salesforce first, then the oldest: the one to keep in a merge."""
	rows = frappe.get_all(
		"Customer",
		fields=["name", "salesforce_account_id"],
		order_by="creation asc",
	)
	linked = [row for row in rows if row.salesforce_account_id]
	return [("Customer", row.name) for row in linked + [row for row in rows if not row.salesforce_account_id]]


def report_rows(result: AuditResult) -> list[dict]:
	"""One row per finding and per member of a duplicate group, as the report and the command show them."""
	rows = [
		{
			"problem": finding.problem,
			**_reference(finding.value.document),
			"field": finding.value.field,
			"value": finding.value.value,
			"proposal": finding.proposal,
			"safe_fix": finding.fix.new if finding.fix else None,
			"group": None,
		}
		for finding in result.findings
	]
	for group in result.duplicates:
		rows += [
			{
				"problem": "Likely duplicate",
				**_reference(party),
				"field": None,
				"value": None,
				"proposal": group.proposal,
				"safe_fix": None,
				"group": group.key,
			}
			for party in group.parties
		]
	return rows


def _reference(party: Party) -> dict:
	"""An ERPNext document as a link; a Salesforce record by its object and Id, not as a link."""
	if party[0].startswith(SALESFORCE_PARTY_PREFIX):
		return {
			"reference_doctype": None,
			"reference_name": None,
			"salesforce_record": _salesforce_record(party),
		}
	return {"reference_doctype": party[0], "reference_name": party[1], "salesforce_record": None}
