"""The mapping engine: turns a Salesforce record into ERPNext field values by admin-owned rules.

The rules live in the "Salesforce Field Mapping" doctype; the Frappe layer reads them into the
plain dataclasses below, so that the engine itself is tested without a site.

Each rule also names the field's source of truth, which decides what an update of an existing
ERPNext document may change (`plan_update`):

- *Salesforce*: Salesforce's value replaces ERPNext's, unless it is older than the Salesforce
  version the document already holds.
- *ERPNext*: set when the document is created, never changed by Salesforce afterwards.
- *Newest wins*: Salesforce's value is applied only when Salesforce changed the record after the
  value in ERPNext was written.

What "newest" compares. On the Salesforce side, the record's `LastModifiedDate`, falling back to
`SystemModstamp` when a message does not carry it: SystemModstamp also moves when Salesforce itself
touches the record (a roll-up recalculated, a system job), which says nothing about when a person
last set a value. On the ERPNext side, the time the value got there: if nobody changed the
document since the connector last wrote it, that is the Salesforce version the connector applied
then; otherwise it is the document's `modified`, taken in the site's time zone and compared in UTC.
Both sides keep one time per record, not per field, so a change to any field of a document counts
as a change to all its "Newest wins" fields.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from salesforce_connector.core.errors import MappingError, NotFoundError
from salesforce_connector.core.freshness import parse_salesforce_datetime
from salesforce_connector.core.transforms import TRANSFORMS, Transform

SALESFORCE = "Salesforce"
ERPNEXT = "ERPNext"
NEWEST_WINS = "Newest wins"
SOURCES_OF_TRUTH = (SALESFORCE, ERPNEXT, NEWEST_WINS)

# Salesforce record fields that say when the record last changed, most telling first.
VERSION_FIELDS = ("LastModifiedDate", "SystemModstamp")


@dataclass(frozen=True)
class FieldRule:
	salesforce_field: str
	erpnext_field: str
	transform: str | None = None
	options: dict = field(default_factory=dict)
	is_match_key: bool = False
	source_of_truth: str = SALESFORCE


@dataclass(frozen=True)
class ObjectMapping:
	salesforce_object: str
	erpnext_doctype: str
	rules: tuple[FieldRule, ...]

	def rule_for(self, erpnext_field: str) -> FieldRule | None:
		return next((rule for rule in self.rules if rule.erpnext_field == erpnext_field), None)


@dataclass
class MappedRecord:
	values: dict[str, Any] = field(default_factory=dict)
	match_keys: dict[str, Any] = field(default_factory=dict)
	warnings: list[str] = field(default_factory=list)
	# the rule behind each value, for deciding what an update may change
	rules: dict[str, FieldRule] = field(default_factory=dict)
	# when Salesforce last changed the record, in UTC; None when the record does not say
	changed_at: datetime | None = None


@dataclass(frozen=True)
class DocumentVersion:
	"""What an existing ERPNext document holds, in time (all UTC).

	`applied_at` is the newest Salesforce version the connector wrote into it; `edited_at` is the
	last time anyone else changed it in ERPNext, or None when nobody ever did.
	"""

	applied_at: datetime | None = None
	edited_at: datetime | None = None


@dataclass(frozen=True)
class SkippedField:
	erpnext_field: str
	salesforce_field: str
	value: Any
	reason: str


@dataclass
class UpdatePlan:
	values: dict[str, Any] = field(default_factory=dict)
	skipped: list[SkippedField] = field(default_factory=list)
	# the document's version the plan was made against, to be remembered once it is written
	existing: DocumentVersion = field(default_factory=DocumentVersion)

	def notes(self, doctype: str, name: str) -> list[str]:
		return [
			f"{doctype} {name}: kept {skip.erpnext_field}, not {_quoted(skip.value)} from "
			f"{skip.salesforce_field}: {skip.reason}"
			for skip in self.skipped
		]


def _quoted(value: Any) -> str:
	# a person reads these on the log row: text in quotes, numbers and dates as written
	return repr(value) if isinstance(value, str) else str(value)


def read_path(record: Mapping, path: str) -> Any:
	"""The value at a dotted path such as `Account.Name`; None where any step is missing.

	Outbound Messages leave null fields out and REST answers a missing parent as null, so absence
	and null mean the same here.
	"""
	value: Any = record
	for step in path.split("."):
		if not isinstance(value, Mapping):
			return None
		value = value.get(step)
	return value


def map_record(
	mapping: ObjectMapping,
	record: Mapping,
	*,
	extra_transforms: Mapping[str, Transform] | None = None,
	record_label: str | None = None,
) -> MappedRecord:
	"""Apply every rule to the record.

	`extra_transforms` adds transforms that need more than the value, such as the Frappe layer's
	lookups of an ERPNext Country, Customer or Item; they follow the core transforms' signature.

	A field the record does not carry is left out rather than written as empty, so that a message
	selecting few fields never blanks the rest. Every rejected value is reported together, naming the
	record, the field and the value, so that an admin fixes them all in one go.
	"""
	mapped = MappedRecord()
	problems: list[str] = []
	transforms = {**TRANSFORMS, **(extra_transforms or {})}

	for rule in mapping.rules:
		if not _record_has(record, rule.salesforce_field):
			continue
		try:
			value = _transformed_value(rule, record, transforms, mapped.warnings)
		except MappingError as error:
			problems.append(_describe_problem(mapping, rule, record_label, error))
			continue

		mapped.values[rule.erpnext_field] = value
		mapped.rules[rule.erpnext_field] = rule
		if rule.is_match_key and value not in (None, ""):
			mapped.match_keys[rule.erpnext_field] = value

	if problems:
		raise MappingError("; ".join(problems))
	mapped.changed_at = salesforce_changed_at(record)
	return mapped


def salesforce_changed_at(record: Mapping) -> datetime | None:
	"""When Salesforce last changed the record: LastModifiedDate, else SystemModstamp (see above)."""
	for name in VERSION_FIELDS:
		changed_at = _as_utc(record.get(name))
		if changed_at is not None:
			return changed_at
	return None


def plan_update(
	mapped: MappedRecord, existing: DocumentVersion, current: Mapping[str, Any] | None = None
) -> UpdatePlan:
	"""Which mapped values an update of an existing document applies, and why the others are kept.

	`current` holds the document's values: a value already there is neither applied nor reported.
	A value whose rule is unknown (set by code, not by a mapping row) is applied as Salesforce's.
	"""
	plan = UpdatePlan(existing=existing)
	for erpnext_field, value in mapped.values.items():
		if current is not None and current.get(erpnext_field) == value:
			continue

		rule = mapped.rules.get(erpnext_field) or FieldRule(erpnext_field, erpnext_field)
		reason = _reason_to_keep(rule, mapped.changed_at, existing)
		if reason:
			plan.skipped.append(SkippedField(erpnext_field, rule.salesforce_field, value, reason))
		else:
			plan.values[erpnext_field] = value
	return plan


def _reason_to_keep(rule: FieldRule, incoming: datetime | None, existing: DocumentVersion) -> str | None:
	source = rule.source_of_truth or SALESFORCE
	if source == ERPNEXT:
		return "ERPNext owns it"
	if source == NEWEST_WINS:
		return _newest_wins_reason(incoming, existing)
	return _older_reason(incoming, existing.applied_at)


def _newest_wins_reason(incoming: datetime | None, existing: DocumentVersion) -> str | None:
	if existing.edited_at is None:
		return _older_reason(incoming, existing.applied_at)
	if incoming is None:
		return "newest wins and the Salesforce record does not say when it changed"

	value_at = max(filter(None, (existing.applied_at, existing.edited_at)))
	if incoming <= value_at:
		return (
			f"newest wins and ERPNext's value is from {_utc_text(value_at)}, Salesforce's from "
			f"{_utc_text(incoming)}"
		)
	return None


def _older_reason(incoming: datetime | None, applied_at: datetime | None) -> str | None:
	if incoming is None or applied_at is None or incoming >= applied_at:
		return None
	return (
		f"Salesforce's value from {_utc_text(incoming)} is older than the one already applied from "
		f"{_utc_text(applied_at)}"
	)


def _as_utc(value) -> datetime | None:
	if isinstance(value, datetime):
		return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
	return parse_salesforce_datetime(value) if isinstance(value, str) else None


def _utc_text(moment: datetime) -> str:
	return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _record_has(record: Mapping, path: str) -> bool:
	parent_path, _, leaf = path.rpartition(".")
	parent = read_path(record, parent_path) if parent_path else record
	return isinstance(parent, Mapping) and leaf in parent


def _transformed_value(rule: FieldRule, record: Mapping, transforms: Mapping[str, Transform], warnings):
	value = read_path(record, rule.salesforce_field)
	if isinstance(value, str) and not value.strip():
		return None
	if value is None or not rule.transform or not _condition_holds(rule.options, record):
		return value

	transform = transforms.get(rule.transform)
	if transform is None:
		raise MappingError(f"unknown transform {rule.transform!r}", field=rule.salesforce_field, value=value)

	result = transform(value, rule.options)
	warnings.extend(f"{rule.erpnext_field}: {warning}" for warning in result.warnings)
	return result.value


def _condition_holds(options: dict, record: Mapping) -> bool:
	"""A rule may apply its transform only when another field has one of some values.

	The default Address rows use it to read a state as an Indian state only when the country is
	India (`{"when_field": "Country", "when_in": ["India", "IN"], "when_missing": true}`).
	"""
	when_field = options.get("when_field")
	if not when_field:
		return True

	other = read_path(record, when_field)
	if other in (None, ""):
		return bool(options.get("when_missing", False))
	accepted = {str(choice).strip().casefold() for choice in options.get("when_in", [])}
	return str(other).strip().casefold() in accepted


def _describe_problem(mapping: ObjectMapping, rule: FieldRule, record_label: str | None, error) -> str:
	record = f"{mapping.salesforce_object} {record_label}" if record_label else mapping.salesforce_object
	value = error.value if error.value is not None else "(empty)"
	return f"{record}: {rule.salesforce_field} → {rule.erpnext_field} rejected {value!r}: {error.message}"


Describe = Callable[[str], Mapping]


def invisible_salesforce_fields(salesforce_object: str, paths: Iterable[str], describe: Describe) -> dict:
	"""The paths the integration user cannot read, each with the reason in words.

	Salesforce's describe lists only the fields the running user may read (field-level security), so
	a field missing from it is either misspelt or hidden from the integration user; either way the
	connector would never receive it. A path may cross parent relationships (`Account.Name`) and may
	end on a relationship itself (`Product2` for the whole parent record). `describe(object)` returns
	the object's describe result and raises NotFoundError for an object the user cannot see.
	"""
	invisible = {}
	for path in paths:
		reason = _why_invisible(salesforce_object, path, describe)
		if reason:
			invisible[path] = reason
	return invisible


def _why_invisible(salesforce_object: str, path: str, describe: Describe) -> str | None:
	objects = [salesforce_object]
	*parents, leaf = path.strip().split(".")

	for step in parents:
		references = []
		for name in objects:
			relationship = _find_field(_described_fields(name, describe), step, by_relationship=True)
			references += relationship.get("referenceTo", []) if relationship else []
		if not references:
			return f"{' or '.join(objects)} has no relationship {step} the integration user can see"
		objects = list(dict.fromkeys(references))

	for name in objects:
		fields = _described_fields(name, describe)
		if _find_field(fields, leaf) or _find_field(fields, leaf, by_relationship=True):
			return None
	return f"{' or '.join(objects)} has no field {leaf} the integration user can see"


def _described_fields(salesforce_object: str, describe: Describe) -> list[Mapping]:
	# an object the user may not see answers NOT_FOUND; any other failure (a login refused, an org
	# down) says nothing about fields and is for the caller to report
	try:
		return list(describe(salesforce_object).get("fields", []))
	except NotFoundError:
		return []


def _find_field(fields: list[Mapping], name: str, *, by_relationship: bool = False) -> Mapping | None:
	# API names are case-insensitive in Salesforce, as in SOQL
	key = "relationshipName" if by_relationship else "name"
	wanted = name.strip().casefold()
	return next((each for each in fields if (each.get(key) or "").casefold() == wanted), None)
