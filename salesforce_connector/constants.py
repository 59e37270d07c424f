"""Names shared by the Frappe layer."""

SETTINGS = "Salesforce Settings"
FIELD_MAPPING = "Salesforce Field Mapping"
SYNC_LOG = "Salesforce Sync Log"

SALESFORCE_TO_ERPNEXT = "Salesforce to ERPNext"
ERPNEXT_TO_SALESFORCE = "ERPNext to Salesforce"

# Sync Log statuses
QUEUED = "Queued"
PROCESSING = "Processing"
SUCCESS = "Success"
FAILED = "Failed"
SKIPPED = "Skipped"
NEEDS_REVIEW = "Needs Review"
DUPLICATE = "Duplicate"
# an outbound row waiting for the flush; not Queued, which the inbound sweep would take as its own
PENDING = "Pending"

INBOUND = "Inbound"
OUTBOUND = "Outbound"

# Objects whose Outbound Messages the connector acts on.
SUPPORTED_OBJECTS = ("Lead", "Account", "Contact", "Opportunity")

# The Quotation's field keeps the name the first users asked for; every other custom field carries
# the salesforce_ prefix.
QUOTATION_OPPORTUNITY_FIELD = "custom_salesforce_opp_id"

# Salesforce objects ERPNext facts are written back to
OPPORTUNITY = "Opportunity"
ACCOUNT = "Account"

# Backfill runs and their failed records
BACKFILL_RUN = "Salesforce Backfill Run"
BACKFILL_FAILURE = "Salesforce Backfill Failure"
