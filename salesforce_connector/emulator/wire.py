"""Request and response values passed between the HTTP server and the route handlers."""

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from salesforce_connector.emulator.errors import ApiError

JSON_TYPE = "application/json;charset=UTF-8"


@dataclass
class Request:
	method: str
	target: str
	headers: dict[str, str]
	body: bytes = b""

	@property
	def path(self) -> str:
		return unquote(urlsplit(self.target).path)

	@property
	def raw_path(self) -> str:
		return urlsplit(self.target).path

	@property
	def query(self) -> dict[str, str]:
		return {key: values[-1] for key, values in parse_qs(urlsplit(self.target).query).items()}

	def header(self, name: str, default: str | None = None) -> str | None:
		lowered = name.lower()
		return next((value for key, value in self.headers.items() if key.lower() == lowered), default)

	def json(self):
		if not self.body:
			return None
		try:
			return json.loads(self.body.decode("utf-8"))
		except (UnicodeDecodeError, json.JSONDecodeError) as error:
			raise ApiError(
				400, "JSON_PARSER_ERROR", f"Unexpected character in request body: {error}"
			) from None

	def form(self) -> dict[str, str]:
		return {key: values[-1] for key, values in parse_qs(self.body.decode("utf-8", "replace")).items()}


@dataclass
class Response:
	status: int
	body: bytes = b""
	content_type: str | None = JSON_TYPE
	headers: dict[str, str] = field(default_factory=dict)

	@classmethod
	def of_json(cls, status: int, payload) -> "Response":
		return cls(status, json.dumps(payload).encode("utf-8"))

	@classmethod
	def empty(cls, status: int = 204) -> "Response":
		return cls(status, b"", None)

	@classmethod
	def of_error(cls, error: ApiError) -> "Response":
		return cls.of_json(error.status, error.body())

	def payload(self):
		return json.loads(self.body) if self.body else None
