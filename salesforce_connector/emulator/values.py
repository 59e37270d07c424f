"""Turning JSON values into typed field values and back, the way the REST API writes them."""

import math
import re
from datetime import date, datetime, timedelta, timezone

from salesforce_connector.emulator import ids
from salesforce_connector.emulator.errors import ApiError, malformed_id
from salesforce_connector.emulator.schema import Field

DATETIME_PATTERN = re.compile(
	r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?(Z|[+-]\d{2}:?\d{2})?$"
)


def parse_datetime(text: str) -> datetime:
	match = DATETIME_PATTERN.match(text.strip())
	if not match:
		raise ValueError(f"not a datetime: {text!r}")

	year, month, day, hour, minute, second, millis, zone = match.groups()
	moment = datetime(
		int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=timezone.utc
	)
	moment = moment.replace(microsecond=int((millis or "0").ljust(3, "0")) * 1000)
	if zone and zone != "Z":
		sign = 1 if zone[0] == "+" else -1
		digits = zone[1:].replace(":", "")
		offset_minutes = sign * (int(digits[:2]) * 60 + int(digits[2:]))
		moment -= timedelta(minutes=offset_minutes)
	return moment


def format_datetime(moment: datetime) -> str:
	"""REST JSON writes datetimes as `2024-05-01T10:20:30.000+0000`."""
	moment = moment.astimezone(timezone.utc)
	return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def format_soap_datetime(moment: datetime) -> str:
	"""SOAP (and Outbound Messages) write them as `2024-05-01T10:20:30.000Z`."""
	moment = moment.astimezone(timezone.utc)
	return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def to_json(field: Field | None, value):
	if value is None:
		return None
	if isinstance(value, datetime):
		return format_datetime(value)
	if isinstance(value, date):
		return value.isoformat()
	return value


def to_text(value) -> str:
	"""A value as Bulk API CSV and Outbound Messages write it."""
	if value is None:
		return ""
	if value is True:
		return "true"
	if value is False:
		return "false"
	if isinstance(value, datetime):
		return format_soap_datetime(value)
	if isinstance(value, date):
		return value.isoformat()
	if isinstance(value, float) and value.is_integer():
		return repr(value)
	return str(value)


def coerce(sobject: str, field: Field, value):
	"""A JSON value checked and converted for `field`; ApiError with Salesforce's code if it does not fit."""
	if value is None or (value == "" and field.type not in {"string", "textarea"}):
		return None

	converter = CONVERTERS.get(field.type, _text)
	try:
		return converter(sobject, field, value)
	except ApiError:
		raise
	except (TypeError, ValueError, OverflowError):
		raise ApiError(
			400,
			"JSON_PARSER_ERROR",
			f"Cannot deserialize instance of {field.type} from VALUE_STRING value {value} "
			"or request may be missing a required field",
			[field.name],
		) from None


def _text(sobject: str, field: Field, value):
	if isinstance(value, bool | dict | list):
		raise TypeError("not text")
	text = str(value)
	if len(text) > field.length:
		raise ApiError(
			400,
			"STRING_TOO_LONG",
			f"{field.label or field.name}: data value too large: {text[:40]} (max length={field.length})",
			[field.name],
		)
	return text


def _reference(sobject: str, field: Field, value):
	if not isinstance(value, str) or not ids.is_valid_id(value):
		raise malformed_id(field.name, value)
	return ids.to_18(value)


def _boolean(sobject: str, field: Field, value):
	if isinstance(value, bool):
		return value
	if isinstance(value, str) and value.lower() in {"true", "false"}:
		return value.lower() == "true"
	raise ValueError("not a boolean")


def _number(sobject: str, field: Field, value):
	if isinstance(value, bool):
		raise TypeError("a boolean is not a number")
	number = float(value)
	if math.isnan(number) or math.isinf(number):
		raise ValueError("not a finite number")
	return number


def _integer(sobject: str, field: Field, value):
	number = _number(sobject, field, value)
	if not number.is_integer():
		raise ValueError("not an integer")
	return int(number)


def _date(sobject: str, field: Field, value):
	if not isinstance(value, str):
		raise TypeError("a date is a string")
	return date.fromisoformat(value) if len(value) == 10 else parse_datetime(value).date()


def _datetime(sobject: str, field: Field, value):
	if not isinstance(value, str):
		raise TypeError("a datetime is a string")
	return parse_datetime(value)


CONVERTERS = {
	"reference": _reference,
	"id": _reference,
	"boolean": _boolean,
	"double": _number,
	"currency": _number,
	"percent": _number,
	"int": _integer,
	"date": _date,
	"datetime": _datetime,
}
