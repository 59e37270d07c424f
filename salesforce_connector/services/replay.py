"""Replaying saved Outbound Message files through the same path as the endpoint."""

from collections.abc import Iterator
from pathlib import Path

from defusedxml.ElementTree import fromstring

import frappe

from salesforce_connector.api.outbound_message import accept_outbound_message
from salesforce_connector.constants import QUEUED, SYNC_LOG
from salesforce_connector.core.errors import MalformedMessageError
from salesforce_connector.core.outbound_message import parse_outbound_message
from salesforce_connector.tasks.inbound import process_sync_log

COLUMNS = ("file", "notification", "object", "record", "status", "document", "detail")


def replay_files(files: list[Path], *, token: str | None, process: bool) -> Iterator[str]:
	"""Yield a tab-separated table: a header, then one line per notification (or per refused file)."""
	yield "\t".join(COLUMNS)
	for path in files:
		yield from _replay_file(path, token=token, process=process)


def _replay_file(path: Path, *, token: str | None, process: bool) -> Iterator[str]:
	body = path.read_bytes()
	status, answer = accept_outbound_message(body, token)
	frappe.db.commit()  # nosemgrep: the endpoint commits at the end of its request; so does a replay

	if status != 200:
		yield _line(path.name, status="Fault", detail=_fault_reason(answer))
		return

	for notification_id in _notification_ids(body):
		log_name = frappe.db.get_value(SYNC_LOG, {"notification_id": notification_id})
		if process and frappe.db.get_value(SYNC_LOG, log_name, "status") == QUEUED:
			process_sync_log(log_name)
		yield _describe_log(path.name, log_name)


def _notification_ids(body: bytes) -> list[str]:
	try:
		return [n.notification_id for n in parse_outbound_message(body).notifications]
	except MalformedMessageError:
		return []


def _describe_log(file_name: str, log_name: str) -> str:
	log = frappe.db.get_value(
		SYNC_LOG,
		log_name,
		[
			"notification_id",
			"salesforce_object",
			"salesforce_id",
			"status",
			"reference_doctype",
			"reference_name",
			"error",
			"delivery_count",
		],
		as_dict=True,
	)
	document = f"{log.reference_doctype} {log.reference_name}" if log.reference_name else ""
	detail = log.error or ""
	if log.delivery_count > 1:
		detail = f"delivered {log.delivery_count} times, processed once. {detail}".strip()
	return _line(
		file_name,
		notification=log.notification_id,
		object=log.salesforce_object,
		record=log.salesforce_id,
		status=log.status,
		document=document,
		detail=detail,
	)


def _fault_reason(answer: bytes) -> str:
	return fromstring(answer).findtext(".//faultstring") or ""


def _line(file_name: str, **values) -> str:
	values["file"] = file_name
	return "\t".join(str(values.get(column) or "") for column in COLUMNS)
