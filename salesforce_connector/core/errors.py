"""Typed errors shared by the core.

Every error says whether trying again can help, so that a background job can decide between
backing off and failing a Sync Log row for an admin to look at.
"""


class ConnectorError(Exception):
	"""Base of every error the core raises on purpose."""

	retryable = False

	def __init__(self, message: str, *, fields: list[str] | None = None, code: str | None = None):
		super().__init__(message)
		self.message = message
		self.fields = fields or []
		self.code = code


class MalformedMessageError(ConnectorError):
	"""An Outbound Message that cannot be read; Salesforce gets a SOAP fault and retries."""


class RejectedMessageError(ConnectorError):
	"""A well-formed message this receiver must not accept (wrong organization, bad token, disabled)."""


class MappingError(ConnectorError):
	"""A mapping or transform could not turn a Salesforce value into an ERPNext one."""

	def __init__(self, message: str, *, field: str | None = None, value=None):
		super().__init__(message, fields=[field] if field else None)
		self.field = field
		self.value = value


class SalesforceError(ConnectorError):
	"""Salesforce answered with an error, or could not be reached."""

	def __init__(
		self,
		message: str,
		*,
		status: int | None = None,
		code: str | None = None,
		fields: list[str] | None = None,
		body=None,
	):
		super().__init__(message, fields=fields, code=code)
		self.status = status
		self.body = body


class RetryableSalesforceError(SalesforceError):
	"""Trying again later can help: a locked row, a 5xx, a timeout, an expired session."""

	retryable = True


class RequestLimitError(RetryableSalesforceError):
	"""The org's daily API limit is spent (REQUEST_LIMIT_EXCEEDED); back off for long."""


class SessionExpiredError(RetryableSalesforceError):
	"""The access token is no longer valid (INVALID_SESSION_ID); renew it and try once more."""


class PermanentSalesforceError(SalesforceError):
	"""Trying again cannot help until someone changes data or configuration."""


class AuthenticationError(PermanentSalesforceError):
	"""Login failed; the message says in plain words what to fix."""


class NotFoundError(PermanentSalesforceError):
	"""The record does not exist or was deleted (NOT_FOUND, ENTITY_IS_DELETED)."""


class ValidationRuleError(PermanentSalesforceError):
	"""A validation rule, a required field or a bad value (FIELD_CUSTOM_VALIDATION_EXCEPTION, ...)."""


class MalformedQueryError(PermanentSalesforceError):
	"""SOQL Salesforce could not parse (MALFORMED_QUERY, INVALID_FIELD)."""
