"""Phone numbers in E.164 (+919820012345), the form ERPNext's Phone fields and WhatsApp expect."""

import phonenumbers

from salesforce_connector.core.errors import MappingError
from salesforce_connector.core.transforms.text import require_text

DEFAULT_REGION = "IN"


def to_e164(value: str, region: str = DEFAULT_REGION) -> str:
	"""The number in E.164; one written without a country code is read as dialled within `region`."""
	text = require_text(value, "a phone number")
	region = _supported_region(region)

	try:
		number = phonenumbers.parse(text, region)
	except phonenumbers.NumberParseException as error:
		raise MappingError(f"{value!r} is not a phone number: {error}", value=value) from error

	if not phonenumbers.is_possible_number(number):
		raise MappingError(f"{value!r} has too few or too many digits for a phone number", value=value)
	return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _supported_region(region: str) -> str:
	code = str(region).upper()
	if code not in phonenumbers.SUPPORTED_REGIONS:
		raise MappingError(f"{region!r} is not a region phonenumbers knows (use codes such as IN, US)")
	return code
