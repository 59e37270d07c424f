"""The mapping engine: turns a Salesforce record into ERPNext field values by admin-owned rules.

The rules live in the "Salesforce Field Mapping" doctype; the Frappe layer reads them into the
plain dataclasses below, so that the engine itself is tested without a site.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from salesforce_connector.core.errors import MappingError
from salesforce_connector.core.transforms import TRANSFORMS, Transform


@dataclass(frozen=True)
class FieldRule:
	salesforce_field: str
	erpnext_field: str
	transform: str | None = None
	options: dict = field(default_factory=dict)
	is_match_key: bool = False


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
		if rule.is_match_key and value not in (None, ""):
			mapped.match_keys[rule.erpnext_field] = value

	if problems:
		raise MappingError("; ".join(problems))
	return mapped


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
