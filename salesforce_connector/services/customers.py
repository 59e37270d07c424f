"""A Salesforce Lead, Account or Contact becomes an ERPNext Customer with its Contact and Address."""

from dataclasses import dataclass

import frappe
from frappe.query_builder import DocType

from salesforce_connector.constants import NEEDS_REVIEW, SUCCESS
from salesforce_connector.core.errors import ConnectorError
from salesforce_connector.core.mapping import MappedRecord
from salesforce_connector.core.matching import REVIEW, MatchCandidate, MatchDecision, decide_customer_match
from salesforce_connector.core.salesforce_ids import same_salesforce_id
from salesforce_connector.services import record_lock
from salesforce_connector.services.mappings import map_to, mark_synced, plan_for
from salesforce_connector.services.outcome import Outcome
from salesforce_connector.services.settings import connector_defaults

# ERPNext fields whose match keys mean "the Salesforce Id we stored", tried first.
SALESFORCE_ID_FIELDS = ("salesforce_account_id", "salesforce_lead_id", "salesforce_contact_id")
GSTIN_FIELDS = ("tax_id", "gstin")
PHONE_FIELDS = ("mobile_no", "phone")
EMAIL_FIELDS = ("email_id",)


def sync_customer(salesforce_object: str, record: dict) -> Outcome:
	"""Create or update the Customer for a converted Lead or an Account, with Contact and Address.

	Serialised per Account: a Lead's conversion sends the Lead, its new Account and Opportunity
	together, and workers taking them at once would each find no Customer and each make one.
	"""
	account_id = record.get("ConvertedAccountId") if salesforce_object == "Lead" else record.get("Id")
	with record_lock(account_id or record.get("Id")):
		return _sync_customer(salesforce_object, record)


@dataclass(frozen=True)
class CustomerPlan:
	"""What a Lead or Account maps to and which Customer it is, before anything is written."""

	customer_values: MappedRecord
	contact_values: MappedRecord
	address_values: MappedRecord
	decision: MatchDecision
	account_id: str | None
	joins_account: bool = False


def plan_customer(salesforce_object: str, record: dict) -> CustomerPlan:
	"""Map the record and find its Customer; processing and Preview both start here."""
	customer_values = map_to(salesforce_object, "Customer", record)
	contact_values = map_to(salesforce_object, "Contact", record)
	address_values = map_to(salesforce_object, "Address", record)

	account_id = customer_values.values.get("salesforce_account_id")
	keys = _match_keys(customer_values, contact_values, address_values)
	decision = decide_customer_match(
		_lookups(keys), salesforce_account_id=account_id, identity=_gstin_lookup(keys)
	)
	joins_account = (
		decision.action != REVIEW
		and bool(decision.customer)
		and _account_already_owns(decision.customer, salesforce_object, account_id)
	)
	if joins_account:
		# A Lead converted into an Account that is already a Customer brings a person, not a company:
		# the Account keeps its name, GSTIN and billing address.
		customer_values, address_values = _only_ids(customer_values), MappedRecord()
	return CustomerPlan(customer_values, contact_values, address_values, decision, account_id, joins_account)


def _sync_customer(salesforce_object: str, record: dict) -> Outcome:
	plan = plan_customer(salesforce_object, record)
	decision = plan.decision
	if decision.action == REVIEW:
		return Outcome(NEEDS_REVIEW, reason=f"Not linked: {decision.reason}. Merge or link them, then retry.")

	customer_values, contact_values, address_values = (
		plan.customer_values,
		plan.contact_values,
		plan.address_values,
	)
	account_id = plan.account_id
	if decision.customer:
		customer, customer_plan = _update_customer(decision.customer, customer_values)
	else:
		customer, customer_plan = _create_customer(customer_values.values, contact_values.values), None
	contact, contact_plan = _upsert_contact(customer, contact_values)
	address, address_plan = _upsert_address(customer, address_values, _address_key(record, account_id))

	# only once every write is done, so that the connector's own saves never look like ERPNext edits
	for doc, plan, mapped in (
		(customer, customer_plan, customer_values),
		(contact, contact_plan, contact_values),
		(address, address_plan, address_values),
	):
		mark_synced(doc, mapped.changed_at, plan)

	verb = f"Linked to existing customer ({decision.matched_on})" if decision.customer else "Created customer"
	notes = customer_values.warnings + contact_values.warnings + address_values.warnings
	notes += _kept_notes((customer, customer_plan), (contact, contact_plan), (address, address_plan))
	if address is None and address_values.values:
		notes.append("No Address made: ERPNext needs at least a street and a city.")
	return Outcome(
		SUCCESS,
		reason=f"{verb} {customer.name}" + (f", contact {contact.name}" if contact else ""),
		reference_doctype="Customer",
		reference_name=customer.name,
		notes=notes,
	)


def _account_already_owns(customer: str, salesforce_object: str, account_id: str | None) -> bool:
	if salesforce_object != "Lead" or not account_id:
		return False
	linked = frappe.db.get_value("Customer", customer, "salesforce_account_id")
	return bool(linked) and same_salesforce_id(linked, account_id)


def _only_ids(mapped: MappedRecord) -> MappedRecord:
	ids = {field: value for field, value in mapped.values.items() if field in SALESFORCE_ID_FIELDS}
	rules = {field: rule for field, rule in mapped.rules.items() if field in ids}
	return MappedRecord(values=ids, match_keys=mapped.match_keys, rules=rules, changed_at=mapped.changed_at)


def upsert_contact(customer, mapped: MappedRecord) -> str | None:
	"""Create or update the person behind the customer; returns the Contact's name.

	An update keeps the fields the mapping says ERPNext owns or holds newer.
	"""
	contact, plan = _upsert_contact(customer, mapped)
	mark_synced(contact, mapped.changed_at, plan)
	return contact.name if contact else None


def _upsert_contact(customer, mapped: MappedRecord):
	values = mapped.values
	if not any(values.get(field) for field in ("first_name", "last_name", "email_id", "mobile_no", "phone")):
		return None, None

	name = _find_contact(customer.name, values)
	contact = frappe.get_doc("Contact", name) if name else frappe.new_doc("Contact")
	plan = plan_for(contact, mapped) if name else None
	_fill_contact(contact, customer, plan.values if plan else values)
	contact.save()

	if not customer.customer_primary_contact:
		customer.reload()
		customer.customer_primary_contact = contact.name
		customer.save()
	return contact, plan


def _kept_notes(*written) -> list[str]:
	"""Say on the log row which fields an update left alone, and why."""
	return [note for doc, plan in written if doc and plan for note in plan.notes(doc.doctype, doc.name)]


def _match_keys(*mapped_records: MappedRecord) -> dict:
	keys: dict[str, object] = {}
	for mapped in mapped_records:
		for field, value in mapped.match_keys.items():
			keys.setdefault(field, value)
	return keys


def _gstin_lookup(keys: dict):
	gstin = next((keys[field] for field in GSTIN_FIELDS if keys.get(field)), None)
	return (f"GSTIN {gstin}", _customers_with_gstin(gstin)) if gstin else None


def _lookups(keys: dict):
	for field in SALESFORCE_ID_FIELDS:
		if keys.get(field) and frappe.get_meta("Customer").has_field(field):
			yield f"Salesforce Id {keys[field]}", _customers_where(field, keys[field])
	gstin = _gstin_lookup(keys)
	if gstin:
		yield gstin
	for field in PHONE_FIELDS:
		if keys.get(field):
			yield f"phone {keys[field]}", _customers_with_phone(keys[field])
	for field in EMAIL_FIELDS:
		if keys.get(field):
			yield f"e-mail {keys[field]}", _customers_with_email(keys[field])


def _customers_where(field: str, value):
	return lambda: _candidates(frappe.get_all("Customer", filters={field: value}, pluck="name"))


def _customers_with_gstin(gstin: str):
	# India Compliance keeps the GSTIN in its own field; plain ERPNext keeps it in tax_id.
	def lookup():
		names = frappe.get_all("Customer", filters={"tax_id": gstin}, pluck="name")
		if frappe.get_meta("Customer").has_field("gstin"):
			names += frappe.get_all("Customer", filters={"gstin": gstin}, pluck="name")
		return _candidates(names)

	return lookup


def _customers_with_phone(phone: str):
	def lookup():
		contact_phone = DocType("Contact Phone")
		address = DocType("Address")
		names = _linked_customers(contact_phone, "Contact", contact_phone.phone == phone)
		names += _linked_customers(address, "Address", address.phone == phone, parent_field="name")
		return _candidates(names)

	return lookup


def _customers_with_email(email: str):
	def lookup():
		contact_email = DocType("Contact Email")
		return _candidates(_linked_customers(contact_email, "Contact", contact_email.email_id == email))

	return lookup


def _linked_customers(table, parenttype: str, condition, parent_field: str = "parent") -> list[str]:
	link = DocType("Dynamic Link")
	query = (
		frappe.qb.from_(table)
		.join(link)
		.on((link.parent == table[parent_field]) & (link.parenttype == parenttype))
		.select(link.link_name)
		.where(condition & (link.link_doctype == "Customer"))
	)
	return [row[0] for row in query.run()]


def _candidates(names: list[str]) -> list[MatchCandidate]:
	if not names:
		return []
	linked = dict(
		frappe.get_all(
			"Customer",
			filters={"name": ["in", list(set(names))]},
			fields=["name", "salesforce_account_id"],
			as_list=True,
		)
	)
	return [MatchCandidate(name, linked.get(name)) for name in dict.fromkeys(names) if name in linked]


def _create_customer(values: dict, contact_values: dict):
	defaults = connector_defaults()
	customer = frappe.new_doc("Customer")
	customer.update(
		{
			"customer_type": "Company",
			"customer_group": defaults.customer_group,
			"territory": defaults.territory,
		}
	)
	_apply_values(customer, values, overwrite=True)

	if not customer.customer_name:
		person = " ".join(filter(None, [contact_values.get("first_name"), contact_values.get("last_name")]))
		if not person:
			raise ConnectorError(
				"The Salesforce record has no company or person name to name the Customer by."
			)
		customer.customer_name = person
		customer.customer_type = "Individual"

	customer.insert()
	return customer


def _update_customer(name: str, mapped: MappedRecord):
	customer = frappe.get_doc("Customer", name)
	plan = plan_for(customer, mapped)
	if plan.values:
		_apply_values(customer, plan.values, overwrite=False)
		customer.save()
	return customer, plan


def _apply_values(customer, values: dict, *, overwrite: bool) -> None:
	"""Copy mapped values; an update never blanks a field because Salesforce sent it empty."""
	for field, value in values.items():
		if value is None and not overwrite:
			continue
		customer.set(field, value)

	gstin = values.get("tax_id")
	if gstin and customer.meta.has_field("gstin"):
		customer.gstin = gstin


def _find_contact(customer: str, values: dict) -> str | None:
	for field in ("salesforce_contact_id", "salesforce_lead_id"):
		if values.get(field):
			found = frappe.db.get_value("Contact", {field: values[field]})
			if found:
				return found

	linked = _contacts_of(customer)
	for field, table, column in (
		("email_id", "Contact Email", "email_id"),
		("mobile_no", "Contact Phone", "phone"),
	):
		if values.get(field) and linked:
			found = frappe.get_all(
				table, filters={"parent": ["in", linked], column: values[field]}, pluck="parent", limit=1
			)
			if found:
				return found[0]
	return None


def _contacts_of(customer: str) -> list[str]:
	return frappe.get_all(
		"Dynamic Link",
		filters={"link_doctype": "Customer", "link_name": customer, "parenttype": "Contact"},
		pluck="parent",
	)


def _fill_contact(contact, customer, values: dict) -> None:
	for field in ("first_name", "last_name", "designation", "salesforce_contact_id", "salesforce_lead_id"):
		if values.get(field):
			contact.set(field, values[field])
	if not contact.first_name:
		contact.first_name = values.get("last_name") or customer.customer_name

	if values.get("email_id") and values["email_id"] not in {row.email_id for row in contact.email_ids}:
		contact.add_email(values["email_id"], is_primary=not contact.email_ids)
	known_phones = {row.phone for row in contact.phone_nos}
	if values.get("mobile_no") and values["mobile_no"] not in known_phones:
		contact.add_phone(values["mobile_no"], is_primary_mobile_no=1)
	if values.get("phone") and values["phone"] not in known_phones:
		contact.add_phone(values["phone"], is_primary_phone=1)

	if not contact.has_link("Customer", customer.name):
		contact.append("links", {"link_doctype": "Customer", "link_name": customer.name})


def _address_key(record: dict, account_id: str | None) -> str:
	# A converted Lead's address becomes its Account's billing address in Salesforce, so both share
	# one key and one ERPNext Address.
	# The whole 18-character Id: the database compares without case, and two 15-character Ids may
	# differ in case alone.
	owner = account_id or record.get("Id")
	return f"{owner}:Billing"


def _upsert_address(customer, mapped: MappedRecord, key: str):
	values = mapped.values
	if not values.get("address_line1") or not values.get("city"):
		return None, None

	name = frappe.db.get_value("Address", {"salesforce_address_key": key})
	address = frappe.get_doc("Address", name) if name else frappe.new_doc("Address")
	plan = plan_for(address, mapped) if name else None
	values = plan.values if plan else values
	if not name:
		address.update(
			{
				"address_title": customer.customer_name,
				"address_type": "Billing",
				"salesforce_address_key": key,
				"is_primary_address": 1,
				"links": [{"link_doctype": "Customer", "link_name": customer.name}],
				# a new Address takes the site's default country (System Settings), which need not be
				# the company's; an address the record does not place is the company's country
				"country": connector_defaults().country,
			}
		)
	for field, value in values.items():
		if value is not None:
			address.set(field, value)
	if not address.country:
		address.country = connector_defaults().country
	if address.meta.has_field("gstin") and customer.get("gstin") and address.country == "India":
		address.gstin = customer.gstin

	address.save()
	_make_primary_if_none(customer, address)
	return address, plan


def _make_primary_if_none(customer, address) -> None:
	# ERPNext fills an invoice's address from the customer's primary one
	if not customer.get("customer_primary_address"):
		from frappe.contacts.doctype.address.address import get_address_display

		frappe.db.set_value(
			"Customer",
			customer.name,
			{
				"customer_primary_address": address.name,
				"primary_address": get_address_display(address.as_dict()),
			},
		)
		customer.customer_primary_address = address.name
