"""Demo data: an Indian SME's Salesforce org, with GSTINs whose check characters are right.

Shree Ganesh Pumps & Valves sells to manufacturers across India; its org has customers in several
states, their buyers, a few Leads, a product catalogue in the standard price book and Opportunities
at every stage, two of them won.
"""

from dataclasses import replace
from datetime import date, timedelta

from stdnum import luhn
from stdnum.in_ import gstin as gstin_number

from salesforce_connector.emulator.schema import Field

GSTIN_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# What the README asks an admin to create in Setup for the facts written back, typed as there:
# a field the org does not declare would be taken as text and hold "50.0" where a report needs 50%.
WRITEBACK_FIELDS = {
	"Opportunity": (
		Field("Percent_Delivered__c", "percent", custom=True),
		Field("Percent_Billed__c", "percent", custom=True),
		Field("Invoiced_Amount__c", "currency", custom=True),
		Field("Outstanding_Amount__c", "currency", custom=True),
		Field("Last_Payment_Date__c", "date", custom=True),
	),
	"Account": (
		Field("Total_Outstanding__c", "currency", custom=True),
		Field("Last_Order_Date__c", "date", custom=True),
	),
}

# (name, state, state code, PAN, city, street, postal code, phone, buyer first, buyer last, title)
CUSTOMERS = [
	(
		"Shakti Fabricators Pvt Ltd",
		"Maharashtra",
		"27",
		"AAGCS4821K",
		"Pune",
		"Plot 14, MIDC Bhosari",
		"411026",
		"+91 20 2712 4455",
		"Asha",
		"Kulkarni",
		"Purchase Manager",
	),
	(
		"Kaveri Textiles",
		"Tamil Nadu",
		"33",
		"AAJFK7310D",
		"Coimbatore",
		"22 Avinashi Road",
		"641018",
		"+91 422 222 3344",
		"Karthik",
		"Subramanian",
		"Maintenance Head",
	),
	(
		"Narmada Agro Industries",
		"Gujarat",
		"24",
		"AADCN5562R",
		"Vadodara",
		"GIDC Makarpura, Shed 7",
		"390010",
		"+91 265 264 1100",
		"Hetal",
		"Patel",
		"Director",
	),
	(
		"Deccan Polymers Ltd",
		"Telangana",
		"36",
		"AACCD9087M",
		"Hyderabad",
		"IDA Jeedimetla, Phase 2",
		"500055",
		"+91 40 2309 8765",
		"Srinivas",
		"Reddy",
		"Plant Head",
	),
	(
		"Malabar Spices Exports",
		"Kerala",
		"32",
		"AAFFM2214B",
		"Kochi",
		"Willingdon Island, Warehouse 3",
		"682003",
		"+91 484 266 7788",
		"Anitha",
		"Nair",
		"Operations Manager",
	),
	(
		"Hooghly Jute Mills",
		"West Bengal",
		"19",
		"AABCH6633Q",
		"Kolkata",
		"15 Strand Road",
		"700001",
		"+91 33 2243 5566",
		"Subhash",
		"Banerjee",
		"Chief Engineer",
	),
	(
		"Peenya Precision Tools",
		"Karnataka",
		"29",
		"AAHCP1945E",
		"Bengaluru",
		"Peenya Industrial Area, 2nd Stage",
		"560058",
		"+91 80 2839 1200",
		"Manjunath",
		"Gowda",
		"Purchase Officer",
	),
]

# (last, first, company, state, state code, PAN or None, city, source, email)
LEADS = [
	(
		"Sharma",
		"Rohit",
		"Yamuna Dairy Co-op",
		"Uttar Pradesh",
		"09",
		"AAAAY1234C",
		"Mathura",
		"Web",
		"rohit.sharma@yamunadairy.example",
	),
	(
		"Joshi",
		"Meera",
		"Aravalli Marbles",
		"Rajasthan",
		"08",
		"AAFCA7788L",
		"Udaipur",
		"Trade Show",
		"meera@aravallimarbles.example",
	),
	(
		"Singh",
		"Gurpreet",
		"Punjab Rice Traders",
		"Punjab",
		"03",
		None,
		"Ludhiana",
		"Phone Inquiry",
		"gurpreet@punjabrice.example",
	),
	(
		"Das",
		"Priya",
		"Capital Cold Storage",
		"Delhi",
		"07",
		"AAECC3456F",
		"New Delhi",
		"Partner Referral",
		"priya.das@capitalcold.example",
	),
]

# (name, code, family, unit, list price in INR)
PRODUCTS = [
	("Centrifugal Pump 5 HP", "CP-5HP", "Hardware", "Each", 48500.0),
	("Centrifugal Pump 10 HP", "CP-10HP", "Hardware", "Each", 86500.0),
	("Submersible Pump 3 HP", "SP-3HP", "Hardware", "Each", 32750.0),
	("Gate Valve 4 inch", "GV-4IN", "Hardware", "Each", 6200.0),
	("Butterfly Valve 6 inch", "BV-6IN", "Hardware", "Each", 9450.0),
	("Mechanical Seal Kit", "MSK-01", "Raw Material", "Box", 2150.0),
	("Annual Maintenance Contract", "AMC-PUMP", "Service", "Each", 25000.0),
	("Installation and Commissioning", "INST-01", "Service", "Hour", 1800.0),
]

# (customer index, name, stage, days to close, [(product code, quantity, discount share)])
OPPORTUNITIES = [
	(
		0,
		"Shakti - Cooling tower pumps",
		"Closed Won",
		-10,
		[("CP-10HP", 2, 0.05), ("GV-4IN", 4, 0.0), ("INST-01", 16, 0.0)],
	),
	(1, "Kaveri - Dyeing unit pumps", "Negotiation/Review", 15, [("CP-5HP", 3, 0.08), ("MSK-01", 6, 0.0)]),
	(2, "Narmada - Irrigation submersibles", "Proposal/Price Quote", 30, [("SP-3HP", 10, 0.1)]),
	(3, "Deccan - Valve replacement", "Qualification", 45, [("BV-6IN", 12, 0.0)]),
	(4, "Malabar - AMC renewal", "Closed Won", -3, [("AMC-PUMP", 1, 0.0)]),
	(5, "Hooghly - Boiler feed pumps", "Closed Lost", -20, [("CP-10HP", 1, 0.0)]),
	(6, "Peenya - Coolant system", "Prospecting", 60, []),
]


def make_gstin(state_code: str, pan: str, entity: str = "1") -> str:
	"""A GSTIN for a PAN registered in a state, with its Luhn mod 36 check character."""
	body = f"{state_code}{pan}{entity}Z"
	return gstin_number.validate(body + luhn.calc_check_digit(body, GSTIN_ALPHABET))


def add_writeback_fields(org) -> None:
	"""Declare the custom fields the connector writes back, as an admin does before connecting."""
	for sobject, fields in WRITEBACK_FIELDS.items():
		for each in fields:
			# a copy each: a test that changes one org's field must not change it in every org
			org.schema.get(sobject).add(replace(each))


def seed_demo(org) -> dict:
	"""Fill `org` with the demo company's data; answers the Ids made, by kind."""
	add_writeback_fields(org)
	today = org.clock.now().date()
	made = {"accounts": [], "contacts": [], "leads": [], "products": {}, "opportunities": []}

	with org.atomic():
		for row in CUSTOMERS:
			account, contact = _customer(org, row)
			made["accounts"].append(account)
			made["contacts"].append(contact)
		made["leads"] = [_lead(org, row) for row in LEADS]
		made["products"] = {row[1]: _product(org, row) for row in PRODUCTS}
		for row in OPPORTUNITIES:
			made["opportunities"].append(_opportunity(org, row, made, today))
	return made


def _customer(org, row) -> tuple[str, str]:
	name, state, code, pan, city, street, postal, phone, first, last, title = row
	account = org.create(
		"Account",
		{
			"Name": name,
			"Type": "Customer - Direct",
			"Industry": "Manufacturing",
			"Phone": phone,
			"BillingStreet": street,
			"BillingCity": city,
			"BillingState": state,
			"BillingPostalCode": postal,
			"BillingCountry": "India",
			"ShippingStreet": street,
			"ShippingCity": city,
			"ShippingState": state,
			"ShippingPostalCode": postal,
			"ShippingCountry": "India",
			"GSTIN__c": make_gstin(code, pan),
		},
	)
	domain = name.split()[0].lower()
	contact = org.create(
		"Contact",
		{
			"FirstName": first,
			"LastName": last,
			"AccountId": account,
			"Title": title,
			"Email": f"{first.lower()}.{last.lower()}@{domain}.example",
			"Phone": phone,
			"MailingCity": city,
			"MailingState": state,
			"MailingCountry": "India",
		},
	)
	return account, contact


def _lead(org, row) -> str:
	last, first, company, state, code, pan, city, source, email = row
	return org.create(
		"Lead",
		{
			"LastName": last,
			"FirstName": first,
			"Company": company,
			"State": state,
			"City": city,
			"Country": "India",
			"LeadSource": source,
			"Email": email,
			"GSTIN__c": make_gstin(code, pan) if pan else None,
		},
	)


def _product(org, row) -> str:
	name, code, family, unit, price = row
	product = org.create(
		"Product2",
		{
			"Name": name,
			"ProductCode": code,
			"Family": family,
			"QuantityUnitOfMeasure": unit,
			"IsActive": True,
		},
	)
	org.create(
		"PricebookEntry",
		{
			"Pricebook2Id": org.standard_pricebook_id,
			"Product2Id": product,
			"UnitPrice": price,
			"IsActive": True,
		},
	)
	return product


def _opportunity(org, row, made: dict, today: date) -> str:
	customer, name, stage, days, lines = row
	opportunity = org.create(
		"Opportunity",
		{
			"Name": name,
			"AccountId": made["accounts"][customer],
			"StageName": stage,
			"CloseDate": (today + timedelta(days=days)).isoformat(),
			"Type": "Existing Customer" if stage == "Closed Won" else "New Customer",
			"LeadSource": "Partner Referral",
		},
	)
	prices = {row[1]: row[4] for row in PRODUCTS}
	for code, quantity, discount in lines:
		org.create(
			"OpportunityLineItem",
			{
				"OpportunityId": opportunity,
				"Product2Id": made["products"][code],
				"Quantity": quantity,
				"UnitPrice": round(prices[code] * (1 - discount), 2),
			},
		)
	return opportunity
