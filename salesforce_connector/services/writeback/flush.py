"""A flush: take due outbox rows, read each record's facts afresh, write them 200 records a call.

Rows are claimed with SKIP LOCKED, so a flush never waits for a submit that is still marking a
row, and a row marked again while its write is in flight goes back to Pending and is written again.
Every outcome ends on the row: written, unchanged, skipped, back off and retry, or failed with
Salesforce's own reason; nothing is dropped.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import frappe
from frappe.utils import get_system_timezone, now_datetime

from salesforce_connector.constants import (
	ERPNEXT_TO_SALESFORCE,
	FAILED,
	FIELD_MAPPING,
	OUTBOUND,
	PENDING,
	PROCESSING,
	SALESFORCE_TO_ERPNEXT,
	SKIPPED,
	SUCCESS,
	SYNC_LOG,
)
from salesforce_connector.core.errors import (
	AuthenticationError,
	MappingError,
	RetryableSalesforceError,
	SalesforceError,
)
from salesforce_connector.core.mapping import FieldRule, ObjectMapping
from salesforce_connector.core.writeback import (
	REFUSED,
	RETRY,
	WRITTEN,
	Outcome,
	PendingGroup,
	changes_to_send,
	describe_error,
	id_18,
	outcome_of,
	record_values,
	retry_delay,
)
from salesforce_connector.services.writeback.facts import SOURCE_DOCTYPES, related_documents, source_facts

FIELD_MAPPING_ROW = "Salesforce Field Mapping Row"
STANDARD_FIELDTYPES = {"name": "Data", "creation": "Datetime", "modified": "Datetime", "owner": "Data"}
UNCHANGED, SKIP = "unchanged", "skipped"


@dataclass
class FlushReport:
	"""What one flush did, row by row outcome, and how many Salesforce calls it made."""

	written: int = 0
	unchanged: int = 0
	skipped: int = 0
	retrying: int = 0
	failed: int = 0
	calls: int = 0

	def add(self, kind: str) -> None:
		counter = {WRITTEN: "written", UNCHANGED: "unchanged", SKIP: "skipped", RETRY: "retrying"}
		name = counter.get(kind, "failed")
		setattr(self, name, getattr(self, name) + 1)


@dataclass
class RowResult:
	kind: str
	message: str | None = None
	sent: dict = field(default_factory=dict)
	notes: list[str] = field(default_factory=list)


# which rows are due


def pending_groups(now: datetime) -> dict[str, PendingGroup]:
	"""Due rows per sObject: Pending, and not waiting out a retry delay."""
	rows = frappe.db.sql(
		f"""
		select salesforce_object, count(*), max(modified), min(pending_since)
		from `tab{SYNC_LOG}`
		where direction = %(outbound)s and status = %(pending)s
			and (next_retry_at is null or next_retry_at <= %(now)s)
		group by salesforce_object
		""",
		{"outbound": OUTBOUND, "pending": PENDING, "now": now},
	)
	return {sobject: PendingGroup(count, newest, oldest or newest) for sobject, count, newest, oldest in rows}


def recover_interrupted() -> None:
	"""Rows left Processing by a flush that died; only called while holding the flush lock."""
	frappe.db.sql(
		f"update `tab{SYNC_LOG}` set status = %(pending)s where direction = %(outbound)s and status = %(processing)s",
		{"pending": PENDING, "outbound": OUTBOUND, "processing": PROCESSING},
	)
	frappe.db.commit()  # nosemgrep: the claim below must see these rows as Pending


def claim(salesforce_object: str, limit: int, now: datetime) -> list[dict]:
	"""Take up to `limit` due rows of one sObject, skipping rows a submit is marking right now."""
	rows = frappe.db.sql(
		f"""
		select name, salesforce_id, attempts, last_written
		from `tab{SYNC_LOG}`
		where direction = %(outbound)s and status = %(pending)s and salesforce_object = %(sobject)s
			and (next_retry_at is null or next_retry_at <= %(now)s)
		order by pending_since
		limit %(limit)s
		for update skip locked
		""",
		{"outbound": OUTBOUND, "pending": PENDING, "sobject": salesforce_object, "now": now, "limit": limit},
		as_dict=True,
	)
	if rows:
		frappe.db.sql(
			f"""update `tab{SYNC_LOG}` set status = %(processing)s, attempts = attempts + 1, modified = %(now)s
			where name in %(names)s""",
			{"processing": PROCESSING, "now": now, "names": [row.name for row in rows]},
		)
	frappe.db.commit()  # nosemgrep: the claim must hold before Salesforce is called, and facts read after it
	for row in rows:
		row.attempts += 1
	return rows


# writing one batch


class BatchWriter:
	"""Writes claimed rows of one sObject; mappings and the client are shared by a flush's batches."""

	def __init__(self, client_factory: Callable, report: FlushReport):
		self._client_factory = client_factory
		self._client = None
		self.report = report
		self.time_zone = get_system_timezone()
		self.mappings = load_writeback_mappings()
		self.fieldtypes = _fieldtypes(self.mappings)
		self.salesforce_owned = _salesforce_owned_fields()

	@property
	def client(self):
		if self._client is None:
			self._client = self._client_factory()
		return self._client

	def write(self, salesforce_object: str, rows: list[dict]) -> None:
		results = {row.name: self._prepare(salesforce_object, row) for row in rows}

		to_send = [row for row in rows if results[row.name].kind == WRITTEN]
		if to_send:
			self._send(salesforce_object, to_send, results)

		finish(rows, results)
		for result in results.values():
			self.report.add(result.kind)

	def _prepare(self, salesforce_object: str, row) -> RowResult:
		mappings = self.mappings.get(salesforce_object, [])
		if not mappings:
			return RowResult(SKIP, f"No enabled ERPNext to Salesforce mapping writes to {salesforce_object}.")

		try:
			values = self._values(salesforce_object, row, mappings)
		except MappingError as error:
			return RowResult(REFUSED, error.message)
		except Exception as error:
			frappe.log_error(
				title="Salesforce write-back could not read ERPNext",
				reference_doctype=SYNC_LOG,
				reference_name=row.name,
			)
			return RowResult(REFUSED, f"Unexpected error while reading ERPNext: {error!r}")
		if values is None:
			return RowResult(SKIP, _nothing_linked(salesforce_object))

		changes = changes_to_send(
			values.values, _json(row.last_written), self.salesforce_owned.get(salesforce_object, ())
		)
		notes = list(values.warnings) + _change_notes(changes)
		if not changes.values:
			return RowResult(UNCHANGED, notes=["Nothing changed since the last write.", *notes])
		return RowResult(WRITTEN, sent=changes.values, notes=notes)

	def _values(self, salesforce_object: str, row, mappings: list[ObjectMapping]):
		documents = related_documents(salesforce_object, row.salesforce_id)
		if documents is None:
			return None

		facts = {}
		for doctype in SOURCE_DOCTYPES[salesforce_object]:
			fields = [
				rule.erpnext_field
				for mapping in mappings
				if mapping.erpnext_doctype == doctype
				for rule in mapping.rules
			]
			if fields:
				facts[doctype] = source_facts(
					doctype, documents.get(doctype), fields, self.fieldtypes.get(doctype, {})
				)
		return record_values(mappings, facts, self.fieldtypes, time_zone=self.time_zone)

	def _send(self, salesforce_object: str, rows: list[dict], results: dict[str, RowResult]) -> None:
		records = [{"Id": id_18(row.salesforce_id), **results[row.name].sent} for row in rows]
		try:
			self.client.ensure_budget()
			self.report.calls += 1
			answers = self.client.update_records(salesforce_object, records)
		except Exception as error:
			outcome = _call_failure(error)
			for row in rows:
				results[row.name].kind, results[row.name].message = outcome.kind, outcome.message
			return

		for row, answer in zip(rows, answers, strict=True):
			outcome = outcome_of(answer)
			results[row.name].kind, results[row.name].message = outcome.kind, outcome.message


def _call_failure(error: Exception) -> Outcome:
	"""A failure of the whole call happened to every record in it; only a refusal of the call itself is final."""
	if isinstance(error, RetryableSalesforceError):
		return Outcome(RETRY, f"Salesforce is not available right now, will retry: {error.message}")
	if isinstance(error, AuthenticationError):
		# a login problem is the connection's, not the record's: keep the row until it is fixed
		return Outcome(RETRY, f"Cannot log in to Salesforce, will retry: {error.message}")
	if isinstance(error, SalesforceError):
		return Outcome(
			REFUSED,
			"Salesforce refused the call: " + describe_error(error.code, error.message, error.fields),
		)

	frappe.log_error(title="Salesforce write-back call failed", reference_doctype=SYNC_LOG)
	return Outcome(RETRY, f"Unexpected error while calling Salesforce, will retry: {error!r}")


# the rows' outcomes


def finish(rows: list[dict], results: dict[str, RowResult]) -> None:
	"""Record each outcome; commit once.

	A row marked again while its write was in flight is Pending now, or still locked by the submit
	marking it: it is left as it is and written again with what ERPNext holds then.
	"""
	now = now_datetime()
	names = [row.name for row in rows]
	current = dict(
		frappe.db.sql(
			f"select name, status from `tab{SYNC_LOG}` where name in %(names)s for update skip locked",
			{"names": names},
		)
	)
	for row in rows:
		if current.get(row.name) == PROCESSING:
			frappe.db.set_value(SYNC_LOG, row.name, _row_values(row, results[row.name], now))
	frappe.db.commit()  # nosemgrep: a batch's outcomes are committed together, before the next call


def _row_values(row, result: RowResult, now: datetime) -> dict:
	values = {
		"error": result.message if result.kind in (RETRY, REFUSED, SKIP) else None,
		"notes": "\n".join(result.notes) or None,
		"next_retry_at": None,
		"processed_at": now,
	}
	if result.sent:
		values["payload"] = frappe.as_json({"values": result.sent})
	if result.kind == WRITTEN:
		values.update(status=SUCCESS, last_written=_merged(row.last_written, result.sent))
	elif result.kind == UNCHANGED:
		values["status"] = SUCCESS
	elif result.kind == SKIP:
		values["status"] = SKIPPED
	elif result.kind == RETRY:
		values.update(status=PENDING, next_retry_at=now + retry_delay(row.attempts))
	else:
		values["status"] = FAILED
	return values


def _merged(last_written: str | None, sent: dict) -> str:
	return frappe.as_json({**_json(last_written), **sent})


def _json(text: str | None) -> dict:
	try:
		value = json.loads(text) if text else {}
	except ValueError:
		return {}
	return value if isinstance(value, dict) else {}


def _change_notes(changes) -> list[str]:
	notes = []
	if changes.salesforce_owned:
		notes.append(
			"Not written, these fields come from Salesforce: " + ", ".join(sorted(changes.salesforce_owned))
		)
	return notes


def _nothing_linked(salesforce_object: str) -> str:
	if salesforce_object == "Opportunity":
		return "No submitted or cancelled Sales Order is linked to this Opportunity; nothing to write."
	return f"No Customer is linked to this {salesforce_object}; nothing to write."


# the admin's mappings


def load_writeback_mappings() -> dict[str, list[ObjectMapping]]:
	"""Enabled ERPNext to Salesforce mappings, per Salesforce object, read afresh for each flush."""
	names = frappe.get_all(
		FIELD_MAPPING,
		filters={"direction": ERPNEXT_TO_SALESFORCE, "enabled": 1},
		pluck="name",
		order_by="name",
	)
	mappings: dict[str, list[ObjectMapping]] = {}
	for name in names:
		doc = frappe.get_doc(FIELD_MAPPING, name)
		rules = tuple(_rule(row) for row in doc.rows)
		mappings.setdefault(doc.salesforce_object, []).append(
			ObjectMapping(doc.salesforce_object, doc.erpnext_doctype, rules)
		)
	return mappings


def _rule(row) -> FieldRule:
	try:
		options = json.loads(row.transform_options) if row.transform_options else {}
	except ValueError as error:
		raise MappingError(
			f"the transform options of {row.erpnext_field} → {row.salesforce_field} are not valid JSON"
		) from error
	return FieldRule(row.salesforce_field.strip(), row.erpnext_field.strip(), row.transform or None, options)


def _fieldtypes(mappings: dict[str, list[ObjectMapping]]) -> dict[str, dict[str, str]]:
	fieldtypes: dict[str, dict[str, str]] = {}
	for mapping in (each for group in mappings.values() for each in group):
		meta = frappe.get_meta(mapping.erpnext_doctype)
		for rule in mapping.rules:
			docfield = meta.get_field(rule.erpnext_field)
			kind = docfield.fieldtype if docfield else STANDARD_FIELDTYPES.get(rule.erpnext_field, "Data")
			fieldtypes.setdefault(mapping.erpnext_doctype, {})[rule.erpnext_field] = kind
	return fieldtypes


def _salesforce_owned_fields() -> dict[str, set[str]]:
	"""Per object, the fields an enabled Salesforce to ERPNext mapping reads: Salesforce owns them."""
	objects = dict(
		frappe.get_all(
			FIELD_MAPPING,
			filters={"direction": SALESFORCE_TO_ERPNEXT, "enabled": 1},
			fields=["name", "salesforce_object"],
			as_list=True,
		)
	)
	if not objects:
		return {}
	rows = frappe.get_all(
		FIELD_MAPPING_ROW,
		filters={"parent": ["in", list(objects)], "parenttype": FIELD_MAPPING},
		fields=["parent", "salesforce_field"],
	)
	owned: dict[str, set[str]] = {}
	for row in rows:
		if row.salesforce_field and "." not in row.salesforce_field:
			owned.setdefault(objects[row.parent], set()).add(row.salesforce_field.strip())
	return owned
