"""Plain text transforms: case, whitespace, cutting to a field's length, Salesforce picklists."""

from collections.abc import Mapping
from typing import Any

from salesforce_connector.core.errors import MappingError


def require_text(value: Any, what: str) -> str:
	"""The value itself when it is a string; a MappingError saying what was expected otherwise."""
	if not isinstance(value, str):
		raise MappingError(f"{value!r} is not text, so it cannot be read as {what}", value=value)
	return value


def truncate_text(value: str, length: int) -> str:
	"""At most `length` characters of the value, which is how a Frappe Data field counts them."""
	return require_text(value, "text")[:length]


# Stands for "no default given", so that None can be a default of its own.
NO_DEFAULT = object()


def map_picklist(value: str, mapping: Mapping[str, Any], default: Any = NO_DEFAULT) -> Any:
	"""The ERPNext value a Salesforce picklist value stands for.

	Salesforce compares picklist values exactly, so this does too. A value missing from `mapping`
	becomes `default` when one is given (`default=None` counts), and is rejected otherwise: a value
	an admin added in Salesforce after the mapping was written must not slip through unmapped.
	"""
	text = require_text(value, "a picklist value")

	if text in mapping:
		return mapping[text]
	if default is not NO_DEFAULT:
		return default

	raise MappingError(
		f"{text!r} is not a picklist value this mapping knows; add it to the map or give a default",
		value=value,
	)
