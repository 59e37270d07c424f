"""Telling an old version of a record from a new one.

Salesforce does not promise delivery order for Outbound Messages and retries a failed one for up to
24 hours, so an old version can arrive after a newer one was applied. SystemModstamp changes on
every save, including system changes, which makes it the version to compare.
Reference: Salesforce Help, "Outbound Messaging" (delivery and ordering notes) and the Object
Reference's "System Fields".
"""

from datetime import datetime, timezone


def parse_salesforce_datetime(value: str | None) -> datetime | None:
	"""Parse the forms Salesforce writes: `2024-05-01T10:20:30.000Z` (SOAP) and `...+0000` (REST)."""
	if not value:
		return None

	text = value.strip()
	if text.endswith("Z"):
		text = text[:-1] + "+00:00"
	elif len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
		text = f"{text[:-2]}:{text[-2:]}"

	try:
		parsed = datetime.fromisoformat(text)
		if parsed.tzinfo is None:
			parsed = parsed.replace(tzinfo=timezone.utc)
		return parsed.astimezone(timezone.utc)
	except (ValueError, OverflowError):
		# OverflowError: an offset that pushes a date past year 1 or 9999
		return None


def is_stale(incoming: str | datetime | None, applied: str | datetime | None) -> bool:
	"""True when the incoming version is strictly older than the one already applied.

	A version equal to the applied one is not stale: processing it again must be harmless, and a
	missing modstamp on either side never blocks work.
	"""
	incoming_at = _as_utc(incoming)
	applied_at = _as_utc(applied)
	if incoming_at is None or applied_at is None:
		return False
	return incoming_at < applied_at


def _as_utc(value: str | datetime | None) -> datetime | None:
	if isinstance(value, datetime):
		return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
	return parse_salesforce_datetime(value)
