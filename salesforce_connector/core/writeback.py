"""Writing ERPNext facts back to Salesforce: the parts that need no site.

The Frappe layer reads documents and outbox rows; this module decides what they mean: the value a
mapping row writes when several documents feed one Salesforce record, what is left to send once
unchanged and Salesforce-owned fields are dropped, what one record's answer means for its outbox
row, how long a retry waits, and how much of the outbox a flush should take now.
"""

import math
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from salesforce_connector.core.errors import MappingError
from salesforce_connector.core.mapping import ObjectMapping
from salesforce_connector.core.transforms import apply_transform

# one sObject Collections call takes at most 200 records
# (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_update.htm)
COLLECTION_SIZE = 200

NUMERIC_FIELDTYPES = frozenset({"Currency", "Float", "Int", "Percent"})

# growing waits between attempts; a retryable failure is never given up on
RETRY_DELAYS = (
	timedelta(seconds=30),
	timedelta(minutes=1),
	timedelta(minutes=2),
	timedelta(minutes=5),
	timedelta(minutes=15),
	timedelta(minutes=30),
	timedelta(hours=1),
)

_ID_PATTERN = re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$")
_CHECKSUM_ALPHABET = string.ascii_uppercase + "012345"


def id_18(record_id: str) -> str:
	"""The 18-character form of a Salesforce Id.

	A 15-character Id is case-sensitive; the three extra characters encode its capitals so that a
	case-insensitive store (MariaDB's default collation) still tells two Ids apart
	(https://help.salesforce.com/s/articleView?id=000385008).
	"""
	if not isinstance(record_id, str) or not _ID_PATTERN.match(record_id):
		raise ValueError(f"not a Salesforce Id: {record_id!r}")

	id15 = record_id[:15]
	if len(record_id) == 18:
		# an 18-character Id that lost its case (upper-cased in a spreadsheet, pasted in lower case)
		# still names its record: the suffix records which letters are capitals, and Salesforce only
		# accepts the Id in that case
		id15 = _case_from_suffix(id15, record_id[15:]) or id15
	return id15 + _case_suffix(id15)


def _case_suffix(id15: str) -> str:
	suffix = ""
	for start in (0, 5, 10):
		bits = sum(1 << position for position, char in enumerate(id15[start : start + 5]) if char.isupper())
		suffix += _CHECKSUM_ALPHABET[bits]
	return suffix


def _case_from_suffix(id15: str, suffix: str) -> str | None:
	"""The fifteen characters in the case the suffix records, or None when it records no possible case
	(a capital where there is a digit: a made-up suffix, not a lost case)."""
	restored = ""
	for chunk, code in enumerate(suffix.upper()):
		if code not in _CHECKSUM_ALPHABET:
			return None
		bits = _CHECKSUM_ALPHABET.index(code)
		for position, char in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
			capital = bool(bits >> position & 1)
			if capital and not char.isalpha():
				return None
			restored += char.upper() if capital else char.lower()
	return restored


def outbox_key(salesforce_object: str, record_id: str) -> str:
	"""One pending write per Salesforce record, whatever form of its Id a document carries."""
	return f"{salesforce_object}:{id_18(record_id)}"


# what one record is written


@dataclass(frozen=True)
class SourceFacts:
	"""What one ERPNext doctype knows about one Salesforce record.

	`sums` holds each numeric field added up over every related document (a credit note's negative
	total included); `latest` is the newest related document, or None when there is none.
	"""

	sums: Mapping[str, Any] = field(default_factory=dict)
	latest: Mapping[str, Any] | None = None


@dataclass
class RecordValues:
	values: dict[str, Any] = field(default_factory=dict)
	warnings: list[str] = field(default_factory=list)


def split_fields(fields: Iterable[str], fieldtypes: Mapping[str, str]) -> tuple[list[str], list[str]]:
	"""The fields to add up across documents, and the fields to take from the newest one."""
	numeric, latest = [], []
	for name in dict.fromkeys(fields):
		(numeric if fieldtypes.get(name) in NUMERIC_FIELDTYPES else latest).append(name)
	return numeric, latest


def record_values(
	mappings: Iterable[ObjectMapping],
	facts: Mapping[str, SourceFacts],
	fieldtypes: Mapping[str, Mapping[str, str]],
	*,
	time_zone: str,
) -> RecordValues:
	"""The Salesforce field values the admin's rows make of the facts, one doctype per mapping.

	Raises MappingError naming every row whose transform refused its value.
	"""
	result = RecordValues()
	problems = []
	for mapping in mappings:
		source = facts.get(mapping.erpnext_doctype)
		if source is None:
			result.warnings.append(
				f"{mapping.erpnext_doctype} to {mapping.salesforce_object}: the connector does not know how a "
				f"{mapping.erpnext_doctype} relates to an {mapping.salesforce_object}; its rows were left out."
			)
			continue

		numeric = {
			name
			for name, kind in fieldtypes.get(mapping.erpnext_doctype, {}).items()
			if kind in NUMERIC_FIELDTYPES
		}
		for rule in mapping.rules:
			raw = _fact(source, rule.erpnext_field, rule.erpnext_field in numeric)
			try:
				value = _written_value(rule, raw, time_zone, result.warnings)
			except MappingError as error:
				problems.append(
					f"{mapping.erpnext_doctype} {rule.erpnext_field} → {rule.salesforce_field}: {error.message}"
				)
				continue
			_put(result, rule.salesforce_field, value, mapping.erpnext_doctype)

	if problems:
		raise MappingError("; ".join(problems))
	return result


def _fact(source: SourceFacts, fieldname: str, numeric: bool):
	if numeric:
		return source.sums.get(fieldname) or 0
	return source.latest.get(fieldname) if source.latest else None


def _written_value(rule, raw, time_zone: str, warnings: list[str]):
	value = json_value(raw, time_zone)
	if rule.transform:
		value = apply_transform(
			rule.transform, value, field=rule.salesforce_field, options=rule.options, warnings=warnings
		)
	return json_value(value, time_zone)


def _put(result: RecordValues, salesforce_field: str, value, doctype: str) -> None:
	if salesforce_field in result.values:
		result.warnings.append(f"{salesforce_field} is written by more than one row; the {doctype} row won.")
	result.values[salesforce_field] = value


def json_value(value: Any, time_zone: str):
	"""A value as the REST API takes it: numbers, text, ISO dates; datetimes in UTC.

	Frappe keeps datetimes without an offset in the site's zone, and Salesforce reads a datetime
	without an offset as UTC, so the offset is added here.
	"""
	if isinstance(value, bool) or value is None:
		return value
	if isinstance(value, Decimal):
		value = float(value)
	if isinstance(value, float):
		return value if math.isfinite(value) else None
	if isinstance(value, datetime):
		aware = value if value.tzinfo else value.replace(tzinfo=ZoneInfo(time_zone))
		return aware.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
	if isinstance(value, date):
		return value.isoformat()
	if isinstance(value, timedelta):
		return str(value)
	return value


# what is left to send


@dataclass
class Changes:
	values: dict[str, Any]
	unchanged: list[str] = field(default_factory=list)
	salesforce_owned: list[str] = field(default_factory=list)


def changes_to_send(
	values: Mapping[str, Any], last_written: Mapping[str, Any] | None, salesforce_owned: Iterable[str]
) -> Changes:
	"""Drop the fields Salesforce owns and the ones already holding this value.

	A field that a Salesforce-to-ERPNext mapping reads belongs to Salesforce: writing it would send
	Salesforce's own change back to it and, through its Outbound Message, round again. A value equal
	to the last one this connector wrote costs an API call and changes nothing.
	"""
	owned = {name.lower() for name in salesforce_owned}
	last = {name.lower(): value for name, value in (last_written or {}).items()}
	changes = Changes({})
	for name, value in values.items():
		if name.lower() in owned or name.lower() == "id":
			changes.salesforce_owned.append(name)
		elif name.lower() in last and same_value(last[name.lower()], value):
			changes.unchanged.append(name)
		else:
			changes.values[name] = value
	return changes


def same_value(a, b) -> bool:
	if a in (None, "") and b in (None, ""):
		return True
	if _is_number(a) and _is_number(b):
		return math.isclose(float(a), float(b), rel_tol=0, abs_tol=1e-9)
	return a == b


def _is_number(value) -> bool:
	return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


# what Salesforce's answer means


WRITTEN, RETRY, REFUSED = "written", "retry", "refused"


@dataclass(frozen=True)
class Outcome:
	kind: str
	message: str | None = None


def outcome_of(result) -> Outcome:
	"""One record's sObject Collections result as a row outcome.

	Collections answer each record on its own (allOrNone false), so a locked row is retried while
	a validation rule on its neighbour fails only that neighbour.
	"""
	if result.success:
		return Outcome(WRITTEN)
	message = "; ".join(describe_error(error.code, error.message, error.fields) for error in result.errors)
	if result.errors and all(error.retryable for error in result.errors):
		return Outcome(RETRY, f"Salesforce could not write this record now, will retry: {message}")
	return Outcome(REFUSED, f"Salesforce refused the update: {message or 'no reason given'}")


def describe_error(code: str | None, message: str, fields: Iterable[str] = ()) -> str:
	text = f"{code}: {message}" if code else message
	fields = [name for name in fields if name]
	return f"{text} (fields: {', '.join(fields)})" if fields else text


def retry_delay(attempts: int) -> timedelta:
	"""The wait after the attempt numbered `attempts` (1 for the first) failed for a retryable reason."""
	return RETRY_DELAYS[min(max(attempts, 1), len(RETRY_DELAYS)) - 1]


# when a flush takes the outbox


@dataclass(frozen=True)
class PendingGroup:
	"""The due rows of one sObject: how many, their newest change and their oldest wait."""

	count: int
	newest_change: datetime
	oldest_pending: datetime


def rows_ready(
	group: PendingGroup,
	now: datetime,
	*,
	settle: timedelta,
	max_wait: timedelta,
	batch: int = COLLECTION_SIZE,
) -> int:
	"""How many of the group's rows to write now.

	Full batches go at once: waiting cannot make a 200-record call cheaper. A partial batch waits
	until its rows stop changing (a burst of submits becomes one call), but never past `max_wait`,
	so that a steady trickle still reaches Salesforce within a minute.
	"""
	if group.count <= 0:
		return 0
	if group.count >= batch:
		return group.count // batch * batch
	if now - group.newest_change >= settle or now - group.oldest_pending >= max_wait:
		return group.count
	return 0


def seconds_until_ready(
	group: PendingGroup, now: datetime, *, settle: timedelta, max_wait: timedelta
) -> float:
	wait = min(group.newest_change + settle, group.oldest_pending + max_wait) - now
	return max(wait.total_seconds(), 0.0)
