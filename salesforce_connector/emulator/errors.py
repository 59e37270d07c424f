"""The one exception the emulator raises to answer a request with a Salesforce error body."""


class ApiError(Exception):
	"""Becomes `[{"message", "errorCode", "fields"}]` with `status`, as the REST API documents
	(https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm)."""

	def __init__(self, status: int, error_code: str, message: str, fields: list[str] | None = None):
		super().__init__(message)
		self.status = status
		self.error_code = error_code
		self.message = message
		self.fields = fields or []

	def body(self) -> list[dict]:
		error = {"message": self.message, "errorCode": self.error_code}
		if self.fields:
			error["fields"] = self.fields
		return [error]

	def collection_error(self) -> dict:
		"""The shape one record's error takes inside an sObject Collections answer."""
		return {"statusCode": self.error_code, "message": self.message, "fields": self.fields}


def not_found() -> ApiError:
	return ApiError(404, "NOT_FOUND", "The requested resource does not exist")


def malformed_id(sobject: str, value) -> ApiError:
	return ApiError(400, "MALFORMED_ID", f"{sobject} ID: id value of incorrect type: {value}")


def invalid_field(message: str) -> ApiError:
	return ApiError(400, "INVALID_FIELD", message)
