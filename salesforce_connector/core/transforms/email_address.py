"""E-mail addresses as Salesforce hands them over, made fit for ERPNext's Email fields."""

import re

from salesforce_connector.core.errors import MappingError
from salesforce_connector.core.transforms.text import require_text

# Deliberately loose: a local part, one "@", a domain with a dot inside. Whether the mailbox exists
# is for the mail server to say; this only turns away values that cannot be an address at all.
_ADDRESS = re.compile(r"(?P<local>[^@\s]+)@(?P<domain>[^@\s.]+(?:\.[^@\s.]+)+)")


def normalise_email(value: str) -> str:
	"""The address stripped, with its domain lower-cased; the local part keeps its case (RFC 5321)."""
	text = require_text(value, "an e-mail address").strip()
	address = _ADDRESS.fullmatch(text)

	if address is None:
		raise MappingError(f"{value!r} is not an e-mail address", value=value)
	return f"{address['local']}@{address['domain'].lower()}"
