"""Salesforce dates and datetimes, turned into the naive local values Frappe stores.

Salesforce writes a date as `2024-05-01` and a datetime in UTC with milliseconds and an offset,
`2024-05-01T10:20:30.000Z` or `2024-05-01T10:20:30.000+0000` (SOAP API Developer Guide, "Primitive
Data Types"). Frappe keeps datetimes without an offset, in the site's time zone.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from salesforce_connector.core.errors import MappingError
from salesforce_connector.core.transforms.text import require_text

# Most of this app's sites run in India; the Frappe layer passes the site's own time zone.
DEFAULT_TIME_ZONE = "Asia/Kolkata"

_DATE_FORMAT = "%Y-%m-%d"
_DATETIME_FORMATS = ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z")


def to_local_datetime(value: str, time_zone: str = DEFAULT_TIME_ZONE) -> datetime:
	"""The moment as a wall-clock time in `time_zone`, without tzinfo."""
	zone = _zone(time_zone)
	moment = _parse_datetime(require_text(value, "a datetime"))
	return moment.astimezone(zone).replace(tzinfo=None)


def to_date(value: str, time_zone: str = DEFAULT_TIME_ZONE) -> date:
	"""A Salesforce date as it is; a datetime as the day it falls on in `time_zone`."""
	text = require_text(value, "a date").strip()

	if "T" in text:
		return to_local_datetime(text, time_zone).date()

	try:
		return datetime.strptime(text, _DATE_FORMAT).date()
	except ValueError as error:
		raise MappingError(f"{value!r} is not a date written as YYYY-MM-DD", value=value) from error


def _parse_datetime(text: str) -> datetime:
	for datetime_format in _DATETIME_FORMATS:
		try:
			return datetime.strptime(text.strip(), datetime_format)
		except ValueError:
			continue

	# a datetime without an offset could be any zone's wall clock, so it is refused, not guessed
	raise MappingError(
		f"{text!r} is not a datetime written as YYYY-MM-DDThh:mm:ss with an offset", value=text
	)


def _zone(time_zone: str) -> ZoneInfo:
	try:
		return ZoneInfo(time_zone)
	except (ZoneInfoNotFoundError, ValueError, TypeError) as error:
		raise MappingError(f"{time_zone!r} is not a time zone name such as Asia/Kolkata") from error
