"""Value transforms a field-mapping row can name, each a small pure function.

`apply_transform(name, value, field=..., options=..., warnings=...)` is the way in; the helpers below
are there for code that needs one conversion directly (a GSTIN's state, a phone in E.164).
"""

from salesforce_connector.core.transforms.dates import DEFAULT_TIME_ZONE, to_date, to_local_datetime
from salesforce_connector.core.transforms.email_address import normalise_email
from salesforce_connector.core.transforms.gstin import (
	build_gstin,
	corrected_gstin,
	normalise_gstin,
	normalise_pan,
	pan_from_gstin,
	state_from_gstin,
)
from salesforce_connector.core.transforms.indian_states import (
	GST_STATE_CODES,
	canonical_indian_state,
	gst_state_code,
)
from salesforce_connector.core.transforms.numbers import to_boolean, to_decimal
from salesforce_connector.core.transforms.phone import DEFAULT_REGION, to_e164
from salesforce_connector.core.transforms.registry import (
	TRANSFORMS,
	Transform,
	TransformResult,
	apply_transform,
)
from salesforce_connector.core.transforms.text import map_picklist, truncate_text

__all__ = [
	"DEFAULT_REGION",
	"DEFAULT_TIME_ZONE",
	"GST_STATE_CODES",
	"TRANSFORMS",
	"Transform",
	"TransformResult",
	"apply_transform",
	"build_gstin",
	"canonical_indian_state",
	"corrected_gstin",
	"gst_state_code",
	"map_picklist",
	"normalise_email",
	"normalise_gstin",
	"normalise_pan",
	"pan_from_gstin",
	"state_from_gstin",
	"to_boolean",
	"to_date",
	"to_decimal",
	"to_e164",
	"to_local_datetime",
	"truncate_text",
]
