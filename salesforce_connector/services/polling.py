"""Polling: ask Salesforce for the mapped records changed since the last poll, and queue each for the
job that processes Outbound Messages.

Orgs without Outbound Messages (Professional edition) need this to sync at all; orgs with them use it
as a safety net, since Salesforce drops a message after 24 hours of failed delivery. The watermark is
the newest SystemModstamp seen, per object; each poll starts an overlap before it, and a version a
row already took is not queued again, so a record is neither missed nor processed twice.
Reference: SOAP API Developer Guide, "Polling for Changes" and "Data Replication".
"""

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import frappe
from frappe.utils import get_datetime, now_datetime

from salesforce_connector.constants import (
	DUPLICATE,
	FAILED,
	FIELD_MAPPING,
	NEEDS_REVIEW,
	PROCESSING,
	QUEUED,
	SALESFORCE_TO_ERPNEXT,
	SETTINGS,
	SKIPPED,
	SUCCESS,
)
from salesforce_connector.core.backfill import (
	DEFAULT_OVERLAP,
	Position,
	build_selection,
	next_watermark,
	poll_start,
	read_rest,
)
from salesforce_connector.core.freshness import parse_salesforce_datetime
from salesforce_connector.services.api_records import fields_to_read, insert_log, version_handled
from salesforce_connector.services.settings import get_salesforce_client
from salesforce_connector.services.sync_log import enqueue_processing

# Accounts before the Opportunities and Contacts that hang on them; the jobs run in queue order.
# TODO: deletions are not polled — the REST `sobjects/{object}/deleted` replication resource would
# list them; until then reconciliation shows the open orders of deleted Opportunities.
POLLED_OBJECTS = ("Lead", "Account", "Contact", "Opportunity")
# "We recommend polling no more frequently than every five minutes" (Polling for Changes).
MIN_INTERVAL = timedelta(minutes=5)
DEFAULT_INTERVAL = timedelta(minutes=15)
# Any row for a version means it is taken care of: done, or waiting for its job or a person.
ANY_STATUS = (QUEUED, PROCESSING, SUCCESS, FAILED, SKIPPED, NEEDS_REVIEW, DUPLICATE)
COMMIT_EVERY = 200
SOURCE = "Polling"


@dataclass
class ObjectPoll:
	"""What one poll of one object saw: the window, the records, the rows it queued."""

	salesforce_object: str
	since: datetime
	watermark: datetime | None
	seen: int = 0
	queued: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PollingSettings:
	enabled: bool
	interval: timedelta
	overlap: timedelta
	last_polled_at: datetime | None
	watermarks: dict


def polling_settings() -> PollingSettings:
	settings = frappe.get_single(SETTINGS)
	minutes = settings.polling_interval or DEFAULT_INTERVAL.total_seconds() / 60
	overlap = (
		settings.polling_overlap if settings.polling_overlap is not None else DEFAULT_OVERLAP.total_seconds()
	)
	return PollingSettings(
		enabled=bool(settings.enabled and settings.polling_enabled),
		interval=max(timedelta(minutes=minutes), MIN_INTERVAL),
		overlap=timedelta(seconds=max(overlap, 0)),
		last_polled_at=get_datetime(settings.last_polled_at) if settings.last_polled_at else None,
		watermarks=_read_watermarks(settings.polling_watermarks),
	)


def poll_changes(now: datetime | None = None, client=None) -> list[ObjectPoll]:
	"""Poll every mapped object once; each object's rows and watermark are committed together."""
	settings = polling_settings()
	now = now or datetime.now(timezone.utc)
	client = client or get_salesforce_client()
	frappe.db.set_single_value(SETTINGS, "last_polled_at", now_datetime())
	frappe.db.commit()  # nosemgrep: the next tick must see this poll has started

	polls = []
	for salesforce_object in polled_objects():
		poll = _poll_object(client, salesforce_object, settings, now)
		_save_watermark(salesforce_object, poll.watermark)
		frappe.db.commit()  # nosemgrep: the rows and the watermark that covers them, together
		polls.append(poll)
	return polls


def polled_objects() -> list[str]:
	"""The objects with an enabled Salesforce → ERPNext mapping, in processing order."""
	mapped = set(
		frappe.get_all(
			FIELD_MAPPING,
			filters={"direction": SALESFORCE_TO_ERPNEXT, "enabled": 1},
			pluck="salesforce_object",
		)
	)
	return [name for name in POLLED_OBJECTS if name in mapped]


def _poll_object(client, salesforce_object: str, settings: PollingSettings, now: datetime) -> ObjectPoll:
	watermark = settings.watermarks.get(salesforce_object)
	since = poll_start(watermark, overlap=settings.overlap, now=now, first_look_back=settings.interval)
	selection = build_selection(
		salesforce_object,
		client.describe(salesforce_object),
		fields_to_read(salesforce_object),
		date_field="SystemModstamp",
		since=since.strftime("%Y-%m-%dT%H:%M:%SZ"),
	)
	poll = ObjectPoll(salesforce_object, since, watermark)

	for fields, _ in read_rest(client, selection, Position(), limit=None):
		poll.seen += 1
		poll.watermark = next_watermark(poll.watermark, [parse_salesforce_datetime(fields["SystemModstamp"])])
		if version_handled(salesforce_object, fields, statuses=ANY_STATUS):
			continue
		log_name = insert_log(salesforce_object, fields, SOURCE)
		enqueue_processing(log_name)
		poll.queued.append(log_name)
		if len(poll.queued) % COMMIT_EVERY == 0:
			frappe.db.commit()  # nosemgrep: rows in batches; the watermark waits for the object's end
	return poll


def _read_watermarks(text: str | None) -> dict[str, datetime]:
	try:
		stored = json.loads(text or "{}")
	except ValueError:
		return {}
	return {name: parse_salesforce_datetime(value) for name, value in stored.items() if value}


def _save_watermark(salesforce_object: str, watermark: datetime | None) -> None:
	if watermark is None:
		return
	stored = json.loads(frappe.db.get_single_value(SETTINGS, "polling_watermarks") or "{}")
	stored[salesforce_object] = watermark.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
	frappe.db.set_single_value(SETTINGS, "polling_watermarks", json.dumps(stored, indent=1, sort_keys=True))
