"""The objects and fields the emulated org knows, and the describe results built from them.

Field names are case-insensitive in SOQL and in REST bodies, as they are in Salesforce; every lookup
goes through `SObjectType.field()` which folds case and returns the canonical name.
"""

from dataclasses import dataclass, field

# key prefixes as Salesforce assigns them (https://help.salesforce.com/s/articleView?id=000385203)
KEY_PREFIXES = {
	"Account": "001",
	"Contact": "003",
	"Lead": "00Q",
	"Product2": "01t",
	"Pricebook2": "01s",
	"PricebookEntry": "01u",
	"Opportunity": "006",
	"OpportunityLineItem": "00k",
	"OpportunityStage": "01J",
	"User": "005",
	"Organization": "00D",
}


TEXT_TYPES = {"string", "textarea", "email", "phone", "url", "picklist", "id", "reference"}
NUMBER_TYPES = {"double", "currency", "percent", "int"}


@dataclass
class Field:
	name: str
	type: str = "string"
	label: str = ""
	length: int = 255
	createable: bool = True
	updateable: bool = True
	nillable: bool = True
	external_id: bool = False
	unique: bool = False
	reference_to: str | None = None
	relationship_name: str | None = None
	picklist: list[str] = field(default_factory=list)
	custom: bool = False

	@property
	def required(self) -> bool:
		return self.createable and not self.nillable and self.type != "boolean"

	def describe(self) -> dict:
		return {
			"name": self.name,
			"label": self.label or self.name.removesuffix("__c").replace("_", " "),
			"type": self.type,
			"length": self.length if self.type in TEXT_TYPES - {"id", "reference"} else 0,
			"byteLength": self.length * 3 if self.type in TEXT_TYPES else 0,
			"precision": 18 if self.type in {"double", "currency", "percent"} else 0,
			"scale": 2 if self.type in {"double", "currency", "percent"} else 0,
			"digits": 9 if self.type == "int" else 0,
			"createable": self.createable,
			"updateable": self.updateable,
			"nillable": self.nillable,
			"defaultedOnCreate": self.type == "boolean" or self.name in {"Id", "OwnerId"},
			"externalId": self.external_id,
			"unique": self.unique,
			"idLookup": self.external_id or self.name == "Id",
			"custom": self.custom,
			"calculated": False,
			"filterable": True,
			"sortable": self.type != "textarea",
			"referenceTo": [self.reference_to] if self.reference_to else [],
			"relationshipName": self.relationship_name,
			"picklistValues": [
				{"active": True, "defaultValue": False, "label": value, "value": value, "validFor": None}
				for value in self.picklist
			],
			"soapType": SOAP_TYPES.get(self.type, "xsd:string"),
		}


SOAP_TYPES = {
	"id": "tns:ID",
	"reference": "tns:ID",
	"boolean": "xsd:boolean",
	"double": "xsd:double",
	"currency": "xsd:double",
	"percent": "xsd:double",
	"int": "xsd:int",
	"date": "xsd:date",
	"datetime": "xsd:dateTime",
}


@dataclass
class ChildRelationship:
	name: str
	child_object: str
	field: str


@dataclass
class SObjectType:
	name: str
	key_prefix: str
	fields: dict[str, Field] = field(default_factory=dict)
	child_relationships: list[ChildRelationship] = field(default_factory=list)
	createable: bool = True
	custom: bool = False

	def add(self, new_field: Field) -> Field:
		self.fields[new_field.name.lower()] = new_field
		return new_field

	def field(self, name: str) -> Field | None:
		"""The field by name, case folded; a `__c` name nobody declared yet is declared as text."""
		found = self.fields.get(name.lower())
		if found is None and name.lower().endswith("__c") and is_api_name(name):
			# any custom field is accepted on any object, as if the admin had created it in Setup
			# beforehand; one that needs a type of its own is declared with it (see seed.py)
			found = self.add(Field(name, custom=True))
		return found

	def relationship(self, name: str) -> Field | None:
		lowered = name.lower()
		for candidate in self.fields.values():
			if candidate.relationship_name and candidate.relationship_name.lower() == lowered:
				return candidate
		return None

	def child_relationship(self, name: str) -> ChildRelationship | None:
		lowered = name.lower()
		return next((rel for rel in self.child_relationships if rel.name.lower() == lowered), None)

	def external_id_fields(self) -> list[Field]:
		return [candidate for candidate in self.fields.values() if candidate.external_id]

	def describe(self, base_url: str) -> dict:
		return {
			**self.describe_global(base_url),
			"fields": [candidate.describe() for candidate in self.fields.values()],
			"childRelationships": [
				{
					"childSObject": rel.child_object,
					"field": rel.field,
					"relationshipName": rel.name,
					"cascadeDelete": rel.child_object == "OpportunityLineItem",
				}
				for rel in self.child_relationships
			],
			"recordTypeInfos": [],
		}

	def describe_global(self, base_url: str) -> dict:
		url = f"{base_url}/sobjects/{self.name}"
		return {
			"name": self.name,
			"label": self.name.removesuffix("__c"),
			"keyPrefix": self.key_prefix,
			"custom": self.custom,
			"createable": self.createable,
			"updateable": self.createable,
			"deletable": self.createable,
			"queryable": True,
			"retrieveable": True,
			"searchable": True,
			"layoutable": True,
			"urls": {
				"sobject": url,
				"describe": f"{url}/describe",
				"rowTemplate": f"{url}/{{ID}}",
			},
		}


def is_api_name(name: str) -> bool:
	return bool(name) and name[0].isalpha() and all(char.isalnum() or char == "_" for char in name)


def _system_fields() -> list[Field]:
	return [
		Field("Id", "id", length=18, createable=False, updateable=False, nillable=False, unique=True),
		Field("IsDeleted", "boolean", createable=False, updateable=False, nillable=False),
		Field("CreatedDate", "datetime", createable=False, updateable=False, nillable=False),
		Field(
			"CreatedById",
			"reference",
			createable=False,
			updateable=False,
			nillable=False,
			reference_to="User",
		),
		Field("LastModifiedDate", "datetime", createable=False, updateable=False, nillable=False),
		Field(
			"LastModifiedById",
			"reference",
			createable=False,
			updateable=False,
			nillable=False,
			reference_to="User",
		),
		Field("SystemModstamp", "datetime", createable=False, updateable=False, nillable=False),
	]


def _owner() -> Field:
	return Field("OwnerId", "reference", nillable=False, reference_to="User", relationship_name="Owner")


def _readonly(name: str, kind: str = "string", **kwargs) -> Field:
	return Field(name, kind, createable=False, updateable=False, **kwargs)


def _address(prefix: str) -> list[Field]:
	return [
		Field(f"{prefix}Street", "textarea"),
		Field(f"{prefix}City", length=40),
		Field(f"{prefix}State", length=80),
		Field(f"{prefix}PostalCode", length=20),
		Field(f"{prefix}Country", length=80),
	]


LEAD_STATUSES = [
	"Open - Not Contacted",
	"Working - Contacted",
	"Closed - Converted",
	"Closed - Not Converted",
]


def _account() -> list[Field]:
	return [
		Field("Name", nillable=False),
		Field("AccountNumber", length=40),
		Field("Type", "picklist", picklist=["Prospect", "Customer - Direct", "Customer - Channel", "Other"]),
		Field("Industry", "picklist", picklist=["Manufacturing", "Retail", "Technology", "Other"]),
		Field("Phone", "phone", length=40),
		Field("Website", "url"),
		Field("Description", "textarea", length=32000),
		Field("NumberOfEmployees", "int"),
		Field("AnnualRevenue", "currency"),
		Field("ParentId", "reference", reference_to="Account", relationship_name="Parent"),
		*_address("Billing"),
		*_address("Shipping"),
		Field("GSTIN__c", length=15, custom=True),
		Field("ERP_Id__c", external_id=True, unique=True, custom=True),
	]


def _contact() -> list[Field]:
	return [
		Field("FirstName", length=40),
		Field("LastName", length=80, nillable=False),
		_readonly("Name", length=121),
		Field("AccountId", "reference", reference_to="Account", relationship_name="Account"),
		Field("Email", "email", length=80),
		Field("Phone", "phone", length=40),
		Field("MobilePhone", "phone", length=40),
		Field("Title", length=128),
		Field("Department", length=80),
		*_address("Mailing"),
		Field("ERP_Id__c", external_id=True, unique=True, custom=True),
	]


def _lead() -> list[Field]:
	return [
		Field("FirstName", length=40),
		Field("LastName", length=80, nillable=False),
		_readonly("Name", length=121),
		Field("Company", nillable=False),
		Field("Email", "email", length=80),
		Field("Phone", "phone", length=40),
		Field("Title", length=128),
		Field("Status", "picklist", nillable=False, picklist=LEAD_STATUSES),
		Field("LeadSource", "picklist", picklist=["Web", "Phone Inquiry", "Partner Referral", "Trade Show"]),
		Field("Industry", "picklist", picklist=["Manufacturing", "Retail", "Technology", "Other"]),
		Field("Description", "textarea", length=32000),
		*_address(""),
		_readonly("IsConverted", "boolean", nillable=False),
		_readonly("ConvertedDate", "date"),
		_readonly(
			"ConvertedAccountId", "reference", reference_to="Account", relationship_name="ConvertedAccount"
		),
		_readonly(
			"ConvertedContactId", "reference", reference_to="Contact", relationship_name="ConvertedContact"
		),
		_readonly(
			"ConvertedOpportunityId",
			"reference",
			reference_to="Opportunity",
			relationship_name="ConvertedOpportunity",
		),
		Field("GSTIN__c", length=15, custom=True),
	]


def _product() -> list[Field]:
	return [
		Field("Name", nillable=False),
		Field("ProductCode"),
		Field("Description", "textarea", length=4000),
		Field("IsActive", "boolean", nillable=False),
		Field("Family", "picklist", picklist=["Hardware", "Software", "Service", "Raw Material"]),
		Field("QuantityUnitOfMeasure", "picklist", picklist=["Each", "Kg", "Box", "Hour"]),
		Field("ERP_Id__c", external_id=True, unique=True, custom=True),
	]


def _pricebook() -> list[Field]:
	return [
		Field("Name", nillable=False),
		Field("Description"),
		Field("IsActive", "boolean", nillable=False),
		_readonly("IsStandard", "boolean", nillable=False),
	]


def _pricebook_entry() -> list[Field]:
	return [
		_readonly("Name"),
		Field(
			"Pricebook2Id",
			"reference",
			nillable=False,
			updateable=False,
			reference_to="Pricebook2",
			relationship_name="Pricebook2",
		),
		Field(
			"Product2Id",
			"reference",
			nillable=False,
			updateable=False,
			reference_to="Product2",
			relationship_name="Product2",
		),
		Field("UnitPrice", "currency", nillable=False),
		Field("IsActive", "boolean", nillable=False),
		Field("UseStandardPrice", "boolean", nillable=False),
		_readonly("ProductCode"),
	]


def _opportunity() -> list[Field]:
	return [
		Field("Name", length=120, nillable=False),
		Field("AccountId", "reference", reference_to="Account", relationship_name="Account"),
		Field("StageName", "picklist", nillable=False),
		Field("CloseDate", "date", nillable=False),
		Field("Amount", "currency"),
		Field("Probability", "percent"),
		Field(
			"Type", "picklist", picklist=["New Customer", "Existing Customer - Upgrade", "Existing Customer"]
		),
		Field("LeadSource", "picklist", picklist=["Web", "Phone Inquiry", "Partner Referral", "Trade Show"]),
		Field("Description", "textarea", length=32000),
		Field("NextStep"),
		_readonly("IsWon", "boolean", nillable=False),
		_readonly("IsClosed", "boolean", nillable=False),
		_readonly("ForecastCategoryName", "picklist"),
		_readonly("HasOpportunityLineItem", "boolean", nillable=False),
		Field("Pricebook2Id", "reference", reference_to="Pricebook2", relationship_name="Pricebook2"),
		Field("Fulfillment_Status__c", "picklist", custom=True),
		Field("Delivery_Note_ID__c", custom=True),
		Field("Delivery_Date__c", "date", custom=True),
		Field("ERP_Id__c", external_id=True, unique=True, custom=True),
	]


def _line_item() -> list[Field]:
	return [
		_readonly("Name"),
		Field(
			"OpportunityId",
			"reference",
			nillable=False,
			updateable=False,
			reference_to="Opportunity",
			relationship_name="Opportunity",
		),
		Field(
			"PricebookEntryId",
			"reference",
			updateable=False,
			reference_to="PricebookEntry",
			relationship_name="PricebookEntry",
		),
		Field(
			"Product2Id",
			"reference",
			updateable=False,
			reference_to="Product2",
			relationship_name="Product2",
		),
		_readonly("ProductCode"),
		Field("Quantity", "double", nillable=False),
		Field("UnitPrice", "currency"),
		Field("TotalPrice", "currency"),
		_readonly("ListPrice", "currency"),
		Field("Description"),
		Field("ServiceDate", "date"),
		Field("SortOrder", "int"),
	]


def _opportunity_stage() -> list[Field]:
	return [
		_readonly("MasterLabel"),
		_readonly("ApiName"),
		_readonly("IsActive", "boolean", nillable=False),
		_readonly("IsClosed", "boolean", nillable=False),
		_readonly("IsWon", "boolean", nillable=False),
		_readonly("DefaultProbability", "percent"),
		_readonly("ForecastCategoryName", "picklist"),
		_readonly("SortOrder", "int"),
	]


def _user() -> list[Field]:
	return [
		_readonly("Username"),
		_readonly("Name"),
		_readonly("Email", "email"),
		_readonly("IsActive", "boolean", nillable=False),
	]


def _organization() -> list[Field]:
	return [_readonly("Name"), _readonly("IsSandbox", "boolean", nillable=False), _readonly("InstanceName")]


OBJECT_FIELDS = {
	"Account": _account,
	"Contact": _contact,
	"Lead": _lead,
	"Product2": _product,
	"Pricebook2": _pricebook,
	"PricebookEntry": _pricebook_entry,
	"Opportunity": _opportunity,
	"OpportunityLineItem": _line_item,
	"OpportunityStage": _opportunity_stage,
	"User": _user,
	"Organization": _organization,
}
READ_ONLY_OBJECTS = {"OpportunityStage", "User", "Organization"}
WITHOUT_OWNER = {"PricebookEntry", "OpportunityLineItem", "OpportunityStage", "User", "Organization"}

CHILD_RELATIONSHIPS = [
	ChildRelationship("Contacts", "Contact", "AccountId"),
	ChildRelationship("Opportunities", "Opportunity", "AccountId"),
	ChildRelationship("OpportunityLineItems", "OpportunityLineItem", "OpportunityId"),
	ChildRelationship("PricebookEntries", "PricebookEntry", "Product2Id"),
	ChildRelationship("PricebookEntries", "PricebookEntry", "Pricebook2Id"),
]


class Schema:
	"""Every object type of one org, looked up case-insensitively."""

	def __init__(self, *, multi_currency: bool = False):
		self.types: dict[str, SObjectType] = {}
		self._next_custom_prefix = 0
		for name, make_fields in OBJECT_FIELDS.items():
			self._build(name, make_fields(), multi_currency)
		for rel in CHILD_RELATIONSHIPS:
			parent = self.types[self._parent_of(rel).lower()]
			parent.child_relationships.append(rel)

	def _parent_of(self, rel: ChildRelationship) -> str:
		return self.types[rel.child_object.lower()].field(rel.field).reference_to

	def _build(self, name: str, fields: list[Field], multi_currency: bool) -> SObjectType:
		sobject = SObjectType(name, KEY_PREFIXES.get(name) or self._custom_prefix())
		sobject.createable = name not in READ_ONLY_OBJECTS
		sobject.custom = name.endswith("__c")
		for system_field in _system_fields():
			sobject.add(system_field)
		if name not in WITHOUT_OWNER:
			sobject.add(_owner())
		for each in fields:
			sobject.add(each)
		if multi_currency and sobject.createable:
			sobject.add(Field("CurrencyIsoCode", "picklist", length=3, picklist=["INR", "USD", "EUR"]))
		self.types[name.lower()] = sobject
		return sobject

	def _custom_prefix(self) -> str:
		# custom objects get prefixes a00, a01, ... in the order they are created
		prefix = f"a{self._next_custom_prefix:02X}"
		self._next_custom_prefix += 1
		return prefix

	def get(self, name: str) -> SObjectType | None:
		return self.types.get(name.lower()) if isinstance(name, str) else None

	def by_prefix(self, key_prefix: str) -> SObjectType | None:
		return next((each for each in self.types.values() if each.key_prefix == key_prefix), None)

	def add_custom_object(self, name: str, fields: list[Field] | None = None) -> SObjectType:
		"""Declare a custom object such as `DiscountRule__c`, with a Name field and the given fields."""
		if not name.endswith("__c") or not is_api_name(name):
			raise ValueError(f"a custom object's API name ends in __c: {name!r}")

		return self._build(name, [Field("Name", nillable=False), *(fields or [])], multi_currency=False)
