"""Numbers and checkboxes: decimals without float drift, and Salesforce's booleans."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from salesforce_connector.core.errors import MappingError

_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def to_decimal(value: str | int | float, precision: int | None = None) -> Decimal:
	"""The number as a Decimal, rounded half-up to `precision` places when given (as ERPNext rounds)."""
	number = _parse_decimal(value)
	if precision is None:
		return number

	try:
		return number.quantize(Decimal(1).scaleb(-precision), rounding=ROUND_HALF_UP)
	except InvalidOperation as error:
		raise MappingError(
			f"{value!r} has too many digits to keep {precision} places", value=value
		) from error


def _parse_decimal(value: Any) -> Decimal:
	# a float from JSON goes through its shortest repr: Decimal(0.1) would keep the binary error
	text = repr(value) if isinstance(value, float) else value

	if isinstance(text, bool) or not isinstance(text, str | int):
		raise MappingError(f"{value!r} is not a number", value=value)

	try:
		number = Decimal(text)
	except InvalidOperation as error:
		raise MappingError(f"{value!r} is not a number", value=value) from error

	if not number.is_finite():
		raise MappingError(f"{value!r} is not a finite number", value=value)
	return number


def to_boolean(value: str | int | bool) -> bool:
	"""A Salesforce checkbox ("true"/"false", or 1/0 from a formula) as a bool."""
	if isinstance(value, bool):
		return value

	key = str(value).strip().lower() if isinstance(value, str | int) else None
	if key not in _BOOLEANS:
		raise MappingError(f"{value!r} is not true, false, 1 or 0", value=value)
	return _BOOLEANS[key]
