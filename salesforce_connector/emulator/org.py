"""The emulated org: records, their derived fields, users and sessions, API usage, all in memory.

Everything a request changes happens under one lock and inside `atomic()`, so that composite
requests and collections with allOrNone can roll back exactly as Salesforce does.
"""

import contextlib
import copy
import logging
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from salesforce_connector.emulator import ids
from salesforce_connector.emulator.clock import VirtualClock
from salesforce_connector.emulator.errors import ApiError, not_found
from salesforce_connector.emulator.faults import FaultInjector
from salesforce_connector.emulator.outbound import OutboundSender
from salesforce_connector.emulator.schema import Field, Schema, SObjectType
from salesforce_connector.emulator.values import coerce

logger = logging.getLogger(__name__)

INTEGRATION_USERNAME = "integration@emulated-org.example"


@dataclass
class Stage:
	"""One row of Setup > Opportunity Stages; IsWon and IsClosed come from here, never from the label."""

	label: str
	is_closed: bool
	is_won: bool
	probability: float
	forecast_category: str
	sort_order: int
	active: bool = True


def default_stages() -> list[Stage]:
	rows = [
		("Prospecting", False, False, 10, "Pipeline"),
		("Qualification", False, False, 10, "Pipeline"),
		("Needs Analysis", False, False, 20, "Pipeline"),
		("Value Proposition", False, False, 50, "Pipeline"),
		("Id. Decision Makers", False, False, 60, "Pipeline"),
		("Perception Analysis", False, False, 70, "Pipeline"),
		("Proposal/Price Quote", False, False, 75, "Pipeline"),
		("Negotiation/Review", False, False, 90, "Pipeline"),
		("Closed Won", True, True, 100, "Closed"),
		("Closed Lost", True, False, 0, "Omitted"),
	]
	return [
		Stage(label, closed, won, float(prob), forecast, order)
		for order, (label, closed, won, prob, forecast) in enumerate(rows, 1)
	]


@dataclass
class User:
	id: str
	username: str
	password: str
	security_token: str
	name: str = "Integration User"
	email: str = "integration@example.com"
	api_enabled: bool = True
	active: bool = True


@dataclass
class ConnectedApp:
	consumer_key: str
	consumer_secret: str
	certificate_pem: str | None = None
	pre_authorized: set[str] = field(default_factory=set)
	client_credentials_user: str | None = None
	password_flow_enabled: bool = True


@dataclass
class Session:
	token: str
	user_id: str
	issued_at: datetime
	expires_at: datetime
	revoked: bool = False


@dataclass
class ValidationRule:
	sobject: str
	name: str
	error_condition: Callable[[dict], bool]
	message: str
	field: str | None = None


class ApiUsage:
	"""Calls counted in a rolling day, as `Sforce-Limit-Info: api-usage=N/M` reports them."""

	def __init__(self, clock: VirtualClock, daily_limit: int):
		self._clock = clock
		self.daily_limit = daily_limit
		self.used = 0
		self._window_start = clock.now()

	def _roll(self) -> None:
		if self._clock.now() - self._window_start >= timedelta(days=1):
			self.used = 0
			self._window_start = self._clock.now()

	def exceeded(self) -> bool:
		self._roll()
		return self.used >= self.daily_limit

	def count(self) -> None:
		self._roll()
		self.used += 1

	def header(self) -> str:
		self._roll()
		return f"api-usage={self.used}/{self.daily_limit}"

	def reset(self) -> None:
		self.used = 0
		self._window_start = self._clock.now()


class Org:
	"""One Salesforce org in memory. Tests read and change it directly; the server serves it."""

	def __init__(
		self,
		*,
		org_id: str | None = None,
		name: str = "Emulated Org",
		clock: VirtualClock | None = None,
		daily_api_limit: int = 15000,
		query_page_size: int = 2000,
		multi_currency: bool = False,
		is_sandbox: bool = False,
		session_lifetime: timedelta = timedelta(hours=2),
	):
		self.lock = threading.RLock()
		self.clock = clock or VirtualClock()
		self.ids = ids.IdFactory()
		self.org_id = ids.to_18(org_id) if org_id else self.ids.new_id("00D")
		self.name = name
		self.is_sandbox = is_sandbox
		self.schema = Schema(multi_currency=multi_currency)
		self.usage = ApiUsage(self.clock, daily_api_limit)
		self.query_page_size = query_page_size
		self.session_lifetime = session_lifetime
		self.stages = default_stages()
		self.validation_rules: list[ValidationRule] = []
		self.api_enabled = True
		self.base_url = "https://emulated.my.salesforce.com"

		self._records: dict[str, dict[str, dict]] = {name: {} for name in self.schema.types}
		self._recycle_bin: dict[str, dict[str, dict]] = {name: {} for name in self.schema.types}
		# the Ids of the lines ever stored for each Opportunity, in order; only added to, so every
		# read checks each against the live records (a delete or a rolled-back write leaves it stale)
		self._line_ids: dict[str, dict[str, None]] = {}
		self._sessions: dict[str, Session] = {}
		self._journal: list[tuple[str, str, dict | None, dict | None]] | None = None
		self._pending_changes: list[tuple[str, str, bool]] = []
		self._change_listeners: list[Callable[[str, str, bool], None]] = []

		self.users: dict[str, User] = {}
		self.integration_user = None
		self.integration_user = self.add_user(INTEGRATION_USERNAME, "emulator-password-1", "EMULATORTOKEN1")
		self.connected_app = ConnectedApp(
			consumer_key="3MVG9emulatedConsumerKey" + secrets.token_hex(8),
			consumer_secret=secrets.token_hex(16).upper(),
			pre_authorized={INTEGRATION_USERNAME},
			client_credentials_user=INTEGRATION_USERNAME,
		)
		self._standard_pricebook_id = self._insert_standard_pricebook()
		self._insert_organization()
		self.faults = FaultInjector()
		self.outbound = OutboundSender(self)

	# users and sessions

	def add_user(self, username: str, password: str, security_token: str, **kwargs) -> User:
		user = User(self.ids.new_id("005"), username, password, security_token, **kwargs)
		self.users[username] = user
		record = self._defaults(self.schema.get("User"))
		record.update(
			{"Id": user.id, "Username": username, "Name": user.name, "Email": user.email, "IsActive": True}
		)
		self._records["user"][user.id] = record
		return user

	def user_by_id(self, user_id: str) -> User | None:
		return next((user for user in self.users.values() if user.id == user_id), None)

	def issue_session(self, user: User) -> Session:
		# the access token starts with the org's 15-character Id and a '!', as real ones do
		token = f"{self.org_id[:15]}!{secrets.token_urlsafe(72)}"
		now = self.clock.now()
		session = Session(token, user.id, now, now + self.session_lifetime)
		with self.lock:
			self._sessions[token] = session
		return session

	def session_for(self, token: str) -> Session | None:
		"""The live session behind an access token, or None when unknown, expired or revoked."""
		with self.lock:
			session = self._sessions.get(token)
		if session is None or session.revoked or self.clock.now() >= session.expires_at:
			return None
		return session

	def revoke_session(self, token: str) -> None:
		with self.lock:
			if token in self._sessions:
				self._sessions[token].revoked = True

	def expire_all_sessions(self) -> None:
		with self.lock:
			for session in self._sessions.values():
				session.revoked = True

	# transactions

	@contextlib.contextmanager
	def atomic(self) -> Iterator[None]:
		"""All changes inside commit together or not at all; nested blocks join the outer one."""
		with self.lock:
			if self._journal is not None:
				yield
				return

			self._journal = []
			self._pending_changes = []
			try:
				yield
			except BaseException:
				self._rollback()
				raise
			else:
				changes = self._pending_changes
			finally:
				self._journal = None
				self._pending_changes = []
		self._announce(changes)

	@contextlib.contextmanager
	def savepoint(self) -> Iterator[None]:
		"""Inside `atomic()`: if the block fails, undo only its own changes and re-raise."""
		with self.atomic():
			mark = len(self._journal)
			pending = len(self._pending_changes)
			try:
				yield
			except BaseException:
				self._rollback(since=mark)
				del self._pending_changes[pending:]
				raise

	def _remember(self, sobject: str, record_id: str) -> None:
		if self._journal is None:
			return
		live = self._records[sobject.lower()].get(record_id)
		binned = self._recycle_bin[sobject.lower()].get(record_id)
		self._journal.append((sobject.lower(), record_id, copy.deepcopy(live), copy.deepcopy(binned)))

	def _rollback(self, since: int = 0) -> None:
		undo = self._journal[since:]
		del self._journal[since:]
		for key, record_id, live, binned in reversed(undo):
			for store, before in ((self._records[key], live), (self._recycle_bin[key], binned)):
				if before is None:
					store.pop(record_id, None)
				else:
					store[record_id] = before

	def on_change(self, listener: Callable[[str, str, bool], None]) -> None:
		"""Call `listener(sobject, record_id, created)` after each committed create or update."""
		self._change_listeners.append(listener)

	def _announce(self, changes: list[tuple[str, str, bool]]) -> None:
		seen = set()
		for sobject, record_id, created in changes:
			if (record_id, created) in seen:
				continue
			seen.add((record_id, created))
			for listener in self._change_listeners:
				listener(sobject, record_id, created)

	# reading

	def sobject(self, name: str) -> SObjectType:
		found = self.schema.get(name)
		if found is None:
			raise not_found()
		return found

	def rows(self, sobject: str, *, include_deleted: bool = False) -> list[dict]:
		key = sobject.lower()
		if key == "opportunitystage":
			return self.stage_rows()
		with self.lock:
			live = list(self._records[key].values())
			if include_deleted:
				live += list(self._recycle_bin[key].values())
		return live

	def children_of(self, sobject: str, field: str, parent_id: str) -> list[dict]:
		"""The live records of `sobject` whose lookup `field` holds `parent_id`, in the order first stored."""
		with self.lock:
			if (sobject.lower(), field) == ("opportunitylineitem", "OpportunityId"):
				return self._lines_of(parent_id)
			return [row for row in self._records[sobject.lower()].values() if row.get(field) == parent_id]

	def find(self, sobject: str, record_id: str) -> dict | None:
		"""A live record by 15- or 18-character Id, or None."""
		if not ids.is_valid_id(record_id):
			return None
		with self.lock:
			return self._records[sobject.lower()].get(ids.to_18(record_id))

	def find_any(self, record_id: str) -> tuple[SObjectType, dict] | None:
		if not ids.is_valid_id(record_id):
			return None
		sobject = self.schema.by_prefix(record_id[:3])
		if sobject is None:
			return None
		record = self.find(sobject.name, record_id)
		return (sobject, record) if record else None

	def get(self, sobject: str, record_id: str) -> dict:
		"""A copy of a live record; NOT_FOUND or ENTITY_IS_DELETED as the REST API answers."""
		sobject_type = self.sobject(sobject)
		if not ids.is_valid_id(record_id):
			raise not_found()

		with self.lock:
			key = sobject_type.name.lower()
			full_id = ids.to_18(record_id)
			if full_id in self._recycle_bin[key]:
				raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")
			record = self._records[key].get(full_id)
			if record is None:
				raise not_found()
			return dict(record)

	def deleted_rows(self, sobject: str) -> list[dict]:
		with self.lock:
			return list(self._recycle_bin[sobject.lower()].values())

	def stage(self, label: str) -> Stage | None:
		return next((stage for stage in self.stages if stage.label == label and stage.active), None)

	def stage_rows(self) -> list[dict]:
		"""OpportunityStage as records, so SOQL can ask which stages count as won."""
		rows = []
		for stage in self.stages:
			stage_id = ids.to_18("01J" + ids.POD + "000000" + ids.base62(stage.sort_order, 4))
			rows.append(
				{
					"Id": stage_id,
					"MasterLabel": stage.label,
					"ApiName": stage.label,
					"IsActive": stage.active,
					"IsClosed": stage.is_closed,
					"IsWon": stage.is_won,
					"DefaultProbability": stage.probability,
					"ForecastCategoryName": stage.forecast_category,
					"SortOrder": stage.sort_order,
				}
			)
		return rows

	@property
	def standard_pricebook_id(self) -> str:
		return self._standard_pricebook_id

	# writing

	def create(self, sobject: str, values: dict) -> str:
		sobject_type = self.sobject(sobject)
		self._require_writable(sobject_type)
		if any(key.lower() == "id" for key in values):
			raise ApiError(
				400,
				"INVALID_FIELD_FOR_INSERT_UPDATE",
				"Record ID: cannot specify Id in an insert call",
				["Id"],
			)

		with self.atomic():
			record = self._defaults(sobject_type)
			typed = self._typed_values(sobject_type, values, creating=True)
			record.update(typed)
			self._derive(sobject_type, record, None, set(typed))
			self._check_required(sobject_type, record)
			self._check_references(sobject_type, record)
			self._run_validation_rules(sobject_type, record)
			self._store(sobject_type, record, created=True)
			self._after_write(sobject_type, record)
		return record["Id"]

	def update(self, sobject: str, record_id: str, values: dict) -> None:
		sobject_type = self.sobject(sobject)
		self._require_writable(sobject_type)
		current = self.get(sobject_type.name, record_id)
		changes = {key: value for key, value in values.items() if key.lower() != "id"}

		with self.atomic():
			record = dict(current)
			typed = self._typed_values(sobject_type, changes, creating=False)
			record.update(typed)
			self._derive(sobject_type, record, current, set(typed))
			self._check_required(sobject_type, record)
			self._check_references(sobject_type, record)
			self._run_validation_rules(sobject_type, record)
			record["LastModifiedDate"] = record["SystemModstamp"] = self.clock.now()
			self._store(sobject_type, record, created=False)
			self._after_write(sobject_type, record)

	def delete(self, sobject: str, record_id: str) -> None:
		sobject_type = self.sobject(sobject)
		self._require_writable(sobject_type)
		record = self.get(sobject_type.name, record_id)

		with self.atomic():
			for child in self._cascade_children(sobject_type, record["Id"]):
				self._move_to_recycle_bin(self.schema.get("OpportunityLineItem"), child)
			self._move_to_recycle_bin(sobject_type, record)
			self._after_write(sobject_type, record)

	def upsert(
		self, sobject: str, external_field: str, external_value: str, values: dict
	) -> tuple[str, bool]:
		"""Create or update by an external Id field; returns (record Id, created)."""
		sobject_type = self.sobject(sobject)
		key_field = sobject_type.field(external_field)
		if key_field is None or not (key_field.external_id or key_field.name == "Id"):
			raise ApiError(
				404,
				"NOT_FOUND",
				f"Provided external ID field does not exist or is not accessible: {external_field}",
			)

		matches = [
			row for row in self.rows(sobject_type.name) if _same_key(row.get(key_field.name), external_value)
		]
		if len(matches) > 1:
			ids_found = ", ".join(row["Id"] for row in matches)
			raise ApiError(
				300,
				"MULTIPLE_CHOICES",
				f"Multiple records found for {key_field.name}={external_value}: {ids_found}",
			)
		body = {key: value for key, value in values.items() if key.lower() != key_field.name.lower()}
		if matches:
			self.update(sobject_type.name, matches[0]["Id"], body)
			return matches[0]["Id"], False
		if key_field.name != "Id":
			body[key_field.name] = external_value
		return self.create(sobject_type.name, body), True

	def convert_lead(
		self,
		lead_id: str,
		*,
		account_id: str | None = None,
		create_opportunity: bool = True,
		opportunity_name: str | None = None,
		converted_status: str = "Closed - Converted",
	) -> dict:
		"""What Lead Convert does (https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_convertlead.htm):
		an Account (or the given one), a Contact and optionally an Opportunity, and the Lead marked converted."""
		lead = self.get("Lead", lead_id)
		if lead["IsConverted"]:
			raise ApiError(400, "CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", ["Id"])

		with self.atomic():
			account = account_id or self.create("Account", _account_from_lead(lead))
			contact = self.create("Contact", {**_contact_from_lead(lead), "AccountId": account})
			opportunity = None
			if create_opportunity:
				opportunity = self.create(
					"Opportunity",
					{
						"Name": opportunity_name or f"{lead['Company']}-",
						"AccountId": account,
						"StageName": self._first_open_stage(),
						"CloseDate": (self.clock.now() + timedelta(days=30)).date().isoformat(),
						"LeadSource": lead.get("LeadSource"),
					},
				)
			self._mark_converted(lead, account, contact, opportunity, converted_status)
		return {
			"accountId": account,
			"contactId": contact,
			"opportunityId": opportunity,
			"leadId": lead["Id"],
		}

	def rename_stage(self, old_label: str, new_label: str) -> None:
		"""Rename a stage in Setup: existing Opportunities follow, IsWon and IsClosed stay as they were."""
		stage = self.stage(old_label)
		if stage is None:
			raise KeyError(old_label)

		with self.lock:
			stage.label = new_label
			for record in self._records["opportunity"].values():
				if record.get("StageName") == old_label:
					record["StageName"] = new_label

	def add_validation_rule(
		self,
		sobject: str,
		name: str,
		error_condition: Callable[[dict], bool],
		message: str,
		field: str | None = None,
	) -> ValidationRule:
		"""A rule that rejects a save with FIELD_CUSTOM_VALIDATION_EXCEPTION when `error_condition(record)`."""
		rule = ValidationRule(self.sobject(sobject).name, name, error_condition, message, field)
		self.validation_rules.append(rule)
		return rule

	def add_custom_object(self, name: str, fields: list[Field] | None = None) -> SObjectType:
		with self.lock:
			sobject_type = self.schema.add_custom_object(name, fields)
			self._records[name.lower()] = {}
			self._recycle_bin[name.lower()] = {}
		return sobject_type

	# the steps of a write

	def _require_writable(self, sobject_type: SObjectType) -> None:
		if not sobject_type.createable:
			raise ApiError(
				405 if sobject_type.name != "OpportunityStage" else 400,
				"METHOD_NOT_ALLOWED" if sobject_type.name != "OpportunityStage" else "INVALID_TYPE",
				f"entity type {sobject_type.name} does not support this operation",
			)

	def _defaults(self, sobject_type: SObjectType) -> dict:
		now = self.clock.now()
		record = {name.name: None for name in sobject_type.fields.values()}
		for each in sobject_type.fields.values():
			if each.type == "boolean":
				record[each.name] = False
		record.update(
			{
				"Id": self.ids.new_id(sobject_type.key_prefix),
				"CreatedDate": now,
				"LastModifiedDate": now,
				"SystemModstamp": now,
				"CreatedById": self._running_user_id(),
				"LastModifiedById": self._running_user_id(),
			}
		)
		if "ownerid" in sobject_type.fields:
			record["OwnerId"] = self._running_user_id()
		if "currencyisocode" in sobject_type.fields:
			record["CurrencyIsoCode"] = "INR"
		if sobject_type.name == "Lead":
			record["Status"] = "Open - Not Contacted"
		return record

	def _running_user_id(self) -> str:
		# the very first user is being created while there is no integration user yet
		return (
			self.integration_user.id if self.integration_user else ids.to_18("005" + ids.POD + "0000000001")
		)

	def _typed_values(self, sobject_type: SObjectType, values: dict, *, creating: bool) -> dict:
		# TODO: parent references by external Id in a body ({"Account": {"ERP_Id__c": "C-1"}}) are refused
		# as unknown fields — add them when the connector starts writing line items by product code
		typed = {}
		for name, value in values.items():
			if name == "attributes":
				continue
			target = sobject_type.field(name)
			if target is None:
				raise ApiError(
					400,
					"INVALID_FIELD",
					f"No such column '{name}' on sobject of type {sobject_type.name}",
					[name],
				)
			allowed = target.createable if creating else target.updateable
			if not allowed:
				raise ApiError(
					400,
					"INVALID_FIELD_FOR_INSERT_UPDATE",
					f"Unable to create/update fields: {target.name}. Please check the security settings of this "
					"field and verify that it is read/write for your profile or permission set.",
					[target.name],
				)
			typed[target.name] = coerce(sobject_type.name, target, value)
		return typed

	def _derive(self, sobject_type: SObjectType, record: dict, previous: dict | None, provided: set) -> None:
		"""Fill the fields Salesforce computes; `previous` is None on create, `provided` the fields sent."""
		deriver = getattr(self, f"_derive_{sobject_type.name.lower()}", None)
		if deriver:
			deriver(record, previous, provided)

	def _derive_contact(self, record: dict, previous: dict | None, provided: set) -> None:
		record["Name"] = " ".join(part for part in (record.get("FirstName"), record.get("LastName")) if part)

	_derive_lead = _derive_contact

	def _derive_opportunity(self, record: dict, previous: dict | None, provided: set) -> None:
		label = record.get("StageName")
		stage = self.stage(label) if label is not None else None
		if label is not None and stage is None:
			raise ApiError(
				400,
				"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
				f"Stage: bad value for restricted picklist field: {label}",
				["StageName"],
			)
		if stage:
			record["IsWon"] = stage.is_won
			record["IsClosed"] = stage.is_closed
			record["ForecastCategoryName"] = stage.forecast_category
			stage_changed = previous is not None and previous.get("StageName") != label
			if "Probability" not in provided and (previous is None or stage_changed):
				record["Probability"] = stage.probability
		self._roll_up_amount(record)

	def _roll_up_amount(self, opportunity: dict) -> None:
		# with products attached, Amount is the sum of the lines' TotalPrice and cannot be edited
		# (https://help.salesforce.com/s/articleView?id=sf.products_opportunity_amount.htm)
		lines = self._lines_of(opportunity["Id"])
		opportunity["HasOpportunityLineItem"] = bool(lines)
		if lines:
			opportunity["Amount"] = round(sum(line["TotalPrice"] or 0.0 for line in lines), 2)

	def _derive_pricebookentry(self, record: dict, previous: dict | None, provided: set) -> None:
		product = self.find("Product2", record.get("Product2Id") or "")
		if product:
			record["Name"] = product["Name"]
			record["ProductCode"] = product["ProductCode"]
		if (
			previous is None
			and record.get("Pricebook2Id")
			and record["Pricebook2Id"] != self._standard_pricebook_id
		):
			self._require_standard_price(record)

	def _require_standard_price(self, entry: dict) -> None:
		# a custom price book entry needs the product's standard price first
		# (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_pricebookentry.htm)
		standard = [
			row
			for row in self._records["pricebookentry"].values()
			if row["Product2Id"] == entry.get("Product2Id")
			and row["Pricebook2Id"] == self._standard_pricebook_id
		]
		if not standard:
			raise ApiError(
				400,
				"STANDARD_PRICE_NOT_DEFINED",
				"No standard price defined for this product",
				["Product2Id"],
			)

	def _derive_opportunitylineitem(self, record: dict, previous: dict | None, provided: set) -> None:
		if previous is None:
			self._attach_price_book_entry(record)
		entry = self.find("PricebookEntry", record.get("PricebookEntryId") or "")
		if entry:
			record["Product2Id"] = entry["Product2Id"]
			record["ListPrice"] = entry["UnitPrice"]
			record["ProductCode"] = entry["ProductCode"]
			opportunity = self.find("Opportunity", record.get("OpportunityId") or "")
			record["Name"] = f"{opportunity['Name'] if opportunity else ''} {entry['Name']}".strip()
		self._price_line(record, provided, creating=previous is None)

	def _attach_price_book_entry(self, line: dict) -> None:
		if line.get("PricebookEntryId") or not line.get("Product2Id"):
			return
		opportunity = self.find("Opportunity", line.get("OpportunityId") or "")
		pricebook = (opportunity or {}).get("Pricebook2Id") or self._standard_pricebook_id
		entry = next(
			(
				row
				for row in self._records["pricebookentry"].values()
				if row["Product2Id"] == line["Product2Id"]
				and row["Pricebook2Id"] == pricebook
				and row["IsActive"]
			),
			None,
		)
		if entry is None:
			raise ApiError(
				400,
				"FIELD_INTEGRITY_EXCEPTION",
				"field integrity exception: unknown (no active price book entry for this product)",
				["Product2Id"],
			)
		line["PricebookEntryId"] = entry["Id"]

	def _price_line(self, line: dict, provided: set, *, creating: bool) -> None:
		# TotalPrice = Quantity * UnitPrice; a caller may send TotalPrice instead of UnitPrice, never both
		# (https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_opportunitylineitem.htm)
		quantity = line.get("Quantity")
		if {"TotalPrice", "UnitPrice"} <= provided:
			raise ApiError(
				400,
				"FIELD_INTEGRITY_EXCEPTION",
				"field integrity exception: TotalPrice (only one of unit price or total price may be specified)",
				["TotalPrice"],
			)
		if "TotalPrice" in provided and line["TotalPrice"] is not None and quantity:
			line["UnitPrice"] = round(line["TotalPrice"] / quantity, 2)
		if creating and line.get("UnitPrice") is None and line.get("ListPrice") is not None:
			line["UnitPrice"] = line["ListPrice"]
		if quantity is not None and line.get("UnitPrice") is not None:
			line["TotalPrice"] = round(quantity * line["UnitPrice"], 2)

	def _check_required(self, sobject_type: SObjectType, record: dict) -> None:
		missing = [
			each.name
			for each in sobject_type.fields.values()
			if each.required and record.get(each.name) in (None, "")
		]
		if sobject_type.name == "OpportunityLineItem" and not record.get("PricebookEntryId"):
			missing.append("PricebookEntryId")
		if missing:
			raise ApiError(
				400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing
			)

	def _check_references(self, sobject_type: SObjectType, record: dict) -> None:
		for each in sobject_type.fields.values():
			value = record.get(each.name)
			if each.type != "reference" or value is None or each.reference_to == "User":
				continue
			if value[:3] != self.schema.get(each.reference_to).key_prefix:
				raise ApiError(
					400,
					"FIELD_INTEGRITY_EXCEPTION",
					f"{each.label or each.name}: id value of incorrect type: {value}",
					[each.name],
				)
			if self.find(each.reference_to, value) is None:
				code = "ENTITY_IS_DELETED" if value in self._recycle_bin[each.reference_to.lower()] else None
				raise ApiError(
					400,
					code or "INVALID_CROSS_REFERENCE_KEY",
					"entity is deleted" if code else f"invalid cross reference id: {value}",
					[each.name],
				)

	def _run_validation_rules(self, sobject_type: SObjectType, record: dict) -> None:
		for rule in self.validation_rules:
			if rule.sobject == sobject_type.name and rule.error_condition(dict(record)):
				raise ApiError(
					400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", rule.message, [rule.field] if rule.field else []
				)

	def _store(self, sobject_type: SObjectType, record: dict, *, created: bool) -> None:
		self._remember(sobject_type.name, record["Id"])
		self._records[sobject_type.name.lower()][record["Id"]] = record
		if sobject_type.name == "OpportunityLineItem":
			self._line_ids.setdefault(record.get("OpportunityId"), {})[record["Id"]] = None
		self._pending_changes.append((sobject_type.name, record["Id"], created))

	def _after_write(self, sobject_type: SObjectType, record: dict) -> None:
		if sobject_type.name == "OpportunityLineItem":
			self._refresh_opportunity(record["OpportunityId"])

	def _refresh_opportunity(self, opportunity_id: str) -> None:
		opportunity = self.find("Opportunity", opportunity_id)
		if opportunity is None:
			return
		updated = dict(opportunity)
		if not updated.get("Pricebook2Id") and self._lines_of(opportunity_id):
			updated["Pricebook2Id"] = self._standard_pricebook_id
		self._roll_up_amount(updated)
		updated["LastModifiedDate"] = updated["SystemModstamp"] = self.clock.now()
		self._store(self.schema.get("Opportunity"), updated, created=False)

	def _lines_of(self, opportunity_id: str) -> list[dict]:
		# read through the index: scanning every line for each line written made seeding quadratic
		live = self._records["opportunitylineitem"]
		rows = (live.get(line_id) for line_id in self._line_ids.get(opportunity_id, ()))
		return [row for row in rows if row is not None and row["OpportunityId"] == opportunity_id]

	def _cascade_children(self, sobject_type: SObjectType, record_id: str) -> list[dict]:
		if sobject_type.name != "Opportunity":
			return []
		return self._lines_of(record_id)

	def _move_to_recycle_bin(self, sobject_type: SObjectType, record: dict) -> None:
		key = sobject_type.name.lower()
		self._remember(sobject_type.name, record["Id"])
		self._records[key].pop(record["Id"], None)
		binned = dict(record, IsDeleted=True, SystemModstamp=self.clock.now(), _deleted_at=self.clock.now())
		self._recycle_bin[key][record["Id"]] = binned

	def _first_open_stage(self) -> str:
		return next(stage.label for stage in self.stages if stage.active and not stage.is_closed)

	def _mark_converted(self, lead, account, contact, opportunity, status) -> None:
		converted = dict(lead)
		converted.update(
			{
				"IsConverted": True,
				"ConvertedDate": self.clock.now().date(),
				"ConvertedAccountId": account,
				"ConvertedContactId": contact,
				"ConvertedOpportunityId": opportunity,
				"Status": status,
				"LastModifiedDate": self.clock.now(),
				"SystemModstamp": self.clock.now(),
			}
		)
		self._store(self.schema.get("Lead"), converted, created=False)

	def _insert_organization(self) -> None:
		record = self._defaults(self.schema.get("Organization"))
		record.update(
			{"Id": self.org_id, "Name": self.name, "IsSandbox": self.is_sandbox, "InstanceName": "EMU1"}
		)
		self._records["organization"][self.org_id] = record

	def _insert_standard_pricebook(self) -> str:
		record = self._defaults(self.schema.get("Pricebook2"))
		record.update({"Name": "Standard Price Book", "IsActive": True, "IsStandard": True})
		self._records["pricebook2"][record["Id"]] = record
		return record["Id"]


def _same_key(stored, wanted) -> bool:
	if stored is None:
		return False
	if isinstance(stored, str) and ids.is_valid_id(stored) and ids.is_valid_id(str(wanted)):
		return stored == ids.to_18(str(wanted))
	return str(stored) == str(wanted)


def _account_from_lead(lead: dict) -> dict:
	return {
		"Name": lead["Company"],
		"Phone": lead.get("Phone"),
		"Industry": lead.get("Industry"),
		"BillingStreet": lead.get("Street"),
		"BillingCity": lead.get("City"),
		"BillingState": lead.get("State"),
		"BillingPostalCode": lead.get("PostalCode"),
		"BillingCountry": lead.get("Country"),
		"GSTIN__c": lead.get("GSTIN__c"),
	}


def _contact_from_lead(lead: dict) -> dict:
	return {
		"FirstName": lead.get("FirstName"),
		"LastName": lead["LastName"],
		"Email": lead.get("Email"),
		"Phone": lead.get("Phone"),
		"Title": lead.get("Title"),
	}
