"""The field mapping a new site starts with, taken from the mapping sheet our first users wrote.

Installing the app turns these into "Salesforce Field Mapping" documents; from then on the
documents are the truth and admins edit them in Desk. Migrations never overwrite them.
"""

from dataclasses import replace

from salesforce_connector.core.mapping import ERPNEXT, NEWEST_WINS, SALESFORCE, FieldRule, ObjectMapping

# A state is read as an Indian state only when the country says India, or says nothing: the
# connector serves Indian firms first, and a foreign address keeps its state as typed.
INDIAN_STATE_OPTIONS_FOR = {
	"Lead": {"when_field": "Country", "when_in": ["India", "IN", "IND", "Bharat"], "when_missing": True},
	"Account": {
		"when_field": "BillingCountry",
		"when_in": ["India", "IN", "IND", "Bharat"],
		"when_missing": True,
	},
}


# Who owns a field when a row does not say. Salesforce owns names, contacts and commercial terms
# (a Quotation's lines, currency, party) until the deal is ordered: a won Opportunity submits the
# Quotation, and the connector never changes a submitted document. ERPNext owns prices of record,
# stock, fulfilment, invoices and payments. Addresses and tax registrations are kept up by both
# sales and accounts, so whoever changed them last is right.
ERPNEXT_OWNED_FIELDS = frozenset(
	{
		# prices of record
		"price_list_rate",
		"base_price_list_rate",
		"standard_rate",
		"valuation_rate",
		"selling_price_list",
		"price_list_currency",
		"plc_conversion_rate",
		# stock
		"warehouse",
		"set_warehouse",
		"is_stock_item",
		"stock_uom",
		"conversion_factor",
		"actual_qty",
		"projected_qty",
		"reserve_stock",
		# fulfilment
		"delivery_date",
		"delivered_qty",
		"per_delivered",
		"delivery_status",
		"per_picked",
		# invoices and payments
		"billed_amt",
		"per_billed",
		"billing_status",
		"advance_paid",
		"outstanding_amount",
		"payment_terms_template",
	}
)
NEWEST_WINS_DOCTYPES = frozenset({"Address"})
NEWEST_WINS_FIELDS = frozenset({"tax_id", "gstin", "gst_category", "pan"})


def default_source_of_truth(doctype: str, erpnext_field: str) -> str:
	"""The owner a mapping row gets when an admin leaves it blank."""
	if erpnext_field in ERPNEXT_OWNED_FIELDS:
		return ERPNEXT
	if doctype in NEWEST_WINS_DOCTYPES or erpnext_field in NEWEST_WINS_FIELDS:
		return NEWEST_WINS
	return SALESFORCE


def _with_default_owners(mapping: ObjectMapping) -> ObjectMapping:
	rules = tuple(
		replace(rule, source_of_truth=default_source_of_truth(mapping.erpnext_doctype, rule.erpnext_field))
		for rule in mapping.rules
	)
	return replace(mapping, rules=rules)


def _rule(salesforce_field, erpnext_field, transform=None, options=None, match=False):
	return FieldRule(salesforce_field, erpnext_field, transform, options or {}, match)


_MAPPING_SHEET: tuple[ObjectMapping, ...] = (
	ObjectMapping(
		"Lead",
		"Customer",
		(
			_rule("Company", "customer_name", "strip"),
			_rule("ConvertedAccountId", "salesforce_account_id", match=True),
			_rule("Id", "salesforce_lead_id", match=True),
			_rule("GSTIN__c", "tax_id", "gstin", match=True),
		),
	),
	ObjectMapping(
		"Lead",
		"Contact",
		(
			_rule("Id", "salesforce_lead_id"),
			_rule("ConvertedContactId", "salesforce_contact_id"),
			_rule("FirstName", "first_name", "strip"),
			_rule("LastName", "last_name", "strip"),
			_rule("Title", "designation", "strip"),
			_rule("Email", "email_id", "email", match=True),
			_rule("Phone", "mobile_no", "phone_e164", match=True),
		),
	),
	ObjectMapping(
		"Lead",
		"Address",
		(
			_rule("Street", "address_line1", "strip"),
			_rule("City", "city", "strip"),
			_rule("State", "state", "indian_state", INDIAN_STATE_OPTIONS_FOR["Lead"]),
			_rule("PostalCode", "pincode", "strip"),
			_rule("Country", "country", "erpnext_country"),
		),
	),
	ObjectMapping(
		"Account",
		"Customer",
		(
			_rule("Name", "customer_name", "strip"),
			_rule("Id", "salesforce_account_id", match=True),
			_rule("GSTIN__c", "tax_id", "gstin", match=True),
			_rule("Website", "website", "strip"),
		),
	),
	ObjectMapping(
		"Account",
		"Address",
		(
			_rule("BillingStreet", "address_line1", "strip"),
			_rule("BillingCity", "city", "strip"),
			_rule("BillingState", "state", "indian_state", INDIAN_STATE_OPTIONS_FOR["Account"]),
			_rule("BillingPostalCode", "pincode", "strip"),
			_rule("BillingCountry", "country", "erpnext_country"),
			_rule("Phone", "phone", "phone_e164", match=True),
		),
	),
	ObjectMapping(
		"Contact",
		"Contact",
		(
			_rule("Id", "salesforce_contact_id", match=True),
			_rule("FirstName", "first_name", "strip"),
			_rule("LastName", "last_name", "strip"),
			_rule("Title", "designation", "strip"),
			_rule("Email", "email_id", "email", match=True),
			_rule("MobilePhone", "mobile_no", "phone_e164"),
			_rule("Phone", "phone", "phone_e164"),
		),
	),
	ObjectMapping(
		"Opportunity",
		"Quotation",
		(
			_rule("Id", "custom_salesforce_opp_id", match=True),
			# party_name is a link, so it needs the Customer's document name; the Account's Name is
			# only a label, and names are no keys. The Account Id finds the Customer it became.
			_rule("AccountId", "party_name", "erpnext_customer"),
			_rule("Name", "title", "strip"),
			_rule("CurrencyIsoCode", "currency", "upper"),
		),
	),
	ObjectMapping(
		"OpportunityLineItem",
		"Quotation Item",
		(
			_rule("Id", "salesforce_line_id", match=True),
			_rule("Product2", "item_code", "erpnext_item"),
			_rule("Quantity", "qty", "decimal"),
			_rule("UnitPrice", "rate", "decimal", {"precision": 2}),
		),
	),
)

DEFAULT_MAPPINGS: tuple[ObjectMapping, ...] = tuple(_with_default_owners(each) for each in _MAPPING_SHEET)


# ERPNext facts written back to Salesforce: "ERPNext to Salesforce" mappings, one per source doctype
# and Salesforce object. Here a rule reads the ERPNext field and writes the Salesforce one. When
# several documents feed a record, numeric fields are added up (every invoice of the order, credit
# notes negative) and the others come from the newest document (the latest delivery, payment,
# order). Every org names its own custom fields; admins rename the Salesforce side in Desk.
DEFAULT_WRITEBACK_MAPPINGS: tuple[ObjectMapping, ...] = (
	ObjectMapping(
		"Opportunity",
		"Sales Order",
		(
			_rule("Fulfillment_Status__c", "status"),
			_rule("Percent_Delivered__c", "per_delivered"),
			_rule("Percent_Billed__c", "per_billed"),
		),
	),
	ObjectMapping(
		"Opportunity",
		"Delivery Note",
		(
			_rule("Delivery_Note_ID__c", "name"),
			_rule("Delivery_Date__c", "posting_date"),
		),
	),
	ObjectMapping(
		"Opportunity",
		"Sales Invoice",
		(
			_rule("Invoiced_Amount__c", "grand_total"),
			_rule("Outstanding_Amount__c", "outstanding_amount"),
		),
	),
	ObjectMapping("Opportunity", "Payment Entry", (_rule("Last_Payment_Date__c", "posting_date"),)),
	ObjectMapping("Account", "Sales Invoice", (_rule("Total_Outstanding__c", "outstanding_amount"),)),
	ObjectMapping("Account", "Sales Order", (_rule("Last_Order_Date__c", "transaction_date"),)),
)
