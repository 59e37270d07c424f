"""The transforms a field-mapping row can name, and the one way to apply them.

Every transform in TRANSFORMS takes the Salesforce value and the row's options and returns a
TransformResult: the ERPNext value, plus warnings about a value it kept but had to change (a text cut
to the field's length). apply_transform hands back the value alone and appends those warnings to a
list the caller passes in, so that the mapping engine can collect every field's warnings for one
Sync Log row while a caller that does not care simply leaves the list out.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from salesforce_connector.core.errors import MappingError
from salesforce_connector.core.transforms.dates import DEFAULT_TIME_ZONE, to_date, to_local_datetime
from salesforce_connector.core.transforms.email_address import normalise_email
from salesforce_connector.core.transforms.gstin import normalise_gstin, normalise_pan
from salesforce_connector.core.transforms.indian_states import canonical_indian_state
from salesforce_connector.core.transforms.numbers import to_boolean, to_decimal
from salesforce_connector.core.transforms.phone import DEFAULT_REGION, to_e164
from salesforce_connector.core.transforms.text import NO_DEFAULT, map_picklist, require_text, truncate_text


@dataclass(frozen=True)
class TransformResult:
	"""What a transform made of a value, and what a person should hear about the change."""

	value: Any
	warnings: tuple[str, ...] = ()


Transform = Callable[[Any, Mapping[str, Any]], TransformResult]


def apply_transform(
	name: str | None,
	value: Any,
	*,
	field: str | None = None,
	options: Mapping[str, Any] | None = None,
	warnings: list[str] | None = None,
) -> Any:
	"""The value after the transform called `name` (no name means "none"); None for a blank value.

	Raises MappingError, naming `field` and the value, when the value cannot be turned into an
	ERPNext one or the row's options do not fit the transform.
	"""
	transform = _find_transform(name, field, value)
	if value is None or (isinstance(value, str) and not value.strip()):
		return None

	try:
		result = transform(value, options or {})
	except MappingError as error:
		if field is None:
			raise
		raise MappingError(f"{field}: {error.message}", field=field, value=value) from error

	if warnings is not None:
		warnings.extend(f"{field}: {warning}" if field else warning for warning in result.warnings)
	return result.value


def _find_transform(name: str | None, field: str | None, value: Any) -> Transform:
	transform = TRANSFORMS.get(name or "none")
	if transform is None:
		known = ", ".join(sorted(TRANSFORMS))
		raise MappingError(
			f"there is no transform called {name!r}; use one of {known}", field=field, value=value
		)
	return transform


def _whole_number_option(options: Mapping[str, Any], key: str, transform: str, minimum: int) -> int | None:
	number = options.get(key)
	if number is None:
		return None

	if isinstance(number, bool) or not isinstance(number, int) or number < minimum:
		raise MappingError(
			f"the {transform} transform's {key!r} option must be a whole number of at least {minimum}"
		)
	return number


def _indian_state(value: Any, options: Mapping[str, Any]) -> TransformResult:
	return TransformResult(canonical_indian_state(value))


def _gstin(value: Any, options: Mapping[str, Any]) -> TransformResult:
	return TransformResult(normalise_gstin(value))


def _pan(value: Any, options: Mapping[str, Any]) -> TransformResult:
	return TransformResult(normalise_pan(value))


def _phone_e164(value: Any, options: Mapping[str, Any]) -> TransformResult:
	return TransformResult(to_e164(value, options.get("region") or DEFAULT_REGION))


def _email(value: Any, options: Mapping[str, Any]) -> TransformResult:
	return TransformResult(normalise_email(value))


def _picklist(value: Any, options: Mapping[str, Any]) -> TransformResult:
	mapping = options.get("map")
	if not isinstance(mapping, Mapping):
		raise MappingError("the picklist transform needs a 'map' option from Salesforce to ERPNext values")

	return TransformResult(map_picklist(value, mapping, options.get("default", NO_DEFAULT)))


def _date(value: Any, options: Mapping[str, Any]) -> TransformResult:
	return TransformResult(to_date(value, options.get("time_zone") or DEFAULT_TIME_ZONE))


def _datetime(value: Any, options: Mapping[str, Any]) -> TransformResult:
	return TransformResult(to_local_datetime(value, options.get("time_zone") or DEFAULT_TIME_ZONE))


def _decimal(value: Any, options: Mapping[str, Any]) -> TransformResult:
	precision = _whole_number_option(options, "precision", "decimal", minimum=0)
	return TransformResult(to_decimal(value, precision))


def _boolean(value: Any, options: Mapping[str, Any]) -> TransformResult:
	return TransformResult(to_boolean(value))


def _truncate(value: Any, options: Mapping[str, Any]) -> TransformResult:
	length = _whole_number_option(options, "length", "truncate", minimum=1)
	if length is None:
		raise MappingError("the truncate transform needs a 'length' option, such as 140")

	text = truncate_text(value, length)
	if text == value:
		return TransformResult(text)
	return TransformResult(text, (f"cut from {len(value)} to {length} characters",))


def _upper(value: Any, options: Mapping[str, Any]) -> TransformResult:
	return TransformResult(require_text(value, "text").upper())


def _lower(value: Any, options: Mapping[str, Any]) -> TransformResult:
	return TransformResult(require_text(value, "text").lower())


def _strip(value: Any, options: Mapping[str, Any]) -> TransformResult:
	return TransformResult(require_text(value, "text").strip())


def _none(value: Any, options: Mapping[str, Any]) -> TransformResult:
	return TransformResult(value)


TRANSFORMS: dict[str, Transform] = {
	"indian_state": _indian_state,
	"gstin": _gstin,
	"pan": _pan,
	"phone_e164": _phone_e164,
	"email": _email,
	"picklist": _picklist,
	"date": _date,
	"datetime": _datetime,
	"decimal": _decimal,
	"boolean": _boolean,
	"truncate": _truncate,
	"upper": _upper,
	"lower": _lower,
	"strip": _strip,
	"none": _none,
}
