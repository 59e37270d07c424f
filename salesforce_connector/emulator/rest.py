"""The REST data API under /services/data/vNN.N/: query, sObjects, composite, collections, limits.

Answers follow the REST API Developer Guide
(https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/), including its quirks:
PATCH answers 204, an empty child relationship is null, upsert answers 201 or 200 with `created`.
"""

import json
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import unquote

from salesforce_connector.emulator import ids
from salesforce_connector.emulator.bulk import BulkApi
from salesforce_connector.emulator.errors import ApiError, not_found
from salesforce_connector.emulator.faults import Fault
from salesforce_connector.emulator.soql import Runner, compile_query
from salesforce_connector.emulator.values import format_datetime, parse_datetime, to_json
from salesforce_connector.emulator.wire import Request, Response

COMPOSITE_LIMIT = 25
COLLECTION_LIMIT = 200
REFERENCE_PATTERN = re.compile(r"@\{([A-Za-z0-9_]+)\.([^}]+)\}")
ROLLED_BACK = ApiError(
	400,
	"ALL_OR_NONE_OPERATION_ROLLED_BACK",
	"Record rolled back because not all records were valid and the request was using AllOrNone header",
)


@dataclass
class Call:
	"""One data API call after authentication: the version, the path below it, and the request."""

	version: str
	path: str
	request: Request
	record_fault: Fault | None = None

	@property
	def base(self) -> str:
		return f"/services/data/v{self.version}"


class DataApi:
	def __init__(self, org):
		self.org = org
		self._cursors: dict[str, list[dict]] = {}

	def handle(self, call: Call) -> Response:
		parts = [unquote(part) for part in call.path.strip("/").split("/")] if call.path.strip("/") else []
		method = call.request.method
		head = parts[0] if parts else ""

		if not parts:
			return Response.of_json(200, self.resources(call))
		if head in ("query", "queryAll"):
			return self.query(call, parts, include_deleted=head == "queryAll")
		if head == "sobjects":
			return self.sobjects(call, parts[1:], method)
		if head == "composite":
			return self.composite(call, parts[1:], method)
		if head == "limits":
			return Response.of_json(200, self.limits())
		if head == "jobs":
			return BulkApi.of(self.org).handle(call, parts[1:])
		raise not_found()

	def resources(self, call: Call) -> dict:
		names = ["sobjects", "query", "queryAll", "composite", "limits", "jobs"]
		return {name: f"{call.base}/{name}" for name in names}

	def limits(self) -> dict:
		usage = self.org.usage
		return {
			"DailyApiRequests": {
				"Max": usage.daily_limit,
				"Remaining": max(usage.daily_limit - usage.used, 0),
			},
			"DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
			"DataStorageMB": {"Max": 5, "Remaining": 5},
		}

	# query

	def query(self, call: Call, parts: list[str], *, include_deleted: bool) -> Response:
		if call.request.method != "GET":
			raise ApiError(
				405, "METHOD_NOT_ALLOWED", f"HTTP Method '{call.request.method}' not allowed. Allowed are GET"
			)
		if len(parts) == 2:
			return Response.of_json(200, self.next_page(call, parts[0], parts[1]))

		text = call.request.query.get("q")
		if text is None:
			raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
		query = compile_query(self.org.schema, text)
		runner = Runner(self.org, call.version)
		if query.count_only:
			total = runner.count(query, include_deleted=include_deleted)
			return Response.of_json(200, {"totalSize": total, "done": True, "records": []})

		with self.org.lock:
			rows = runner.rows(query, include_deleted=include_deleted)
			records = [runner.shape(query, row) for row in rows]
		return Response.of_json(200, self.first_page(call, parts[0], records))

	def page_size(self, call: Call) -> int:
		# Sforce-Query-Options: batchSize=N picks 200..2000 records a page
		# (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_queryoptions.htm)
		options = call.request.header("Sforce-Query-Options") or ""
		match = re.search(r"batchSize=(\d+)", options)
		if match:
			return max(200, min(2000, int(match.group(1))))
		return self.org.query_page_size

	def first_page(self, call: Call, endpoint: str, records: list[dict]) -> dict:
		size = self.page_size(call)
		if len(records) <= size:
			return {"totalSize": len(records), "done": True, "records": records}

		cursor = ids.to_18("01g" + ids.POD + "0" + secrets.token_hex(5).upper()[:9])
		with self.org.lock:
			self._cursors[cursor] = records
		return self.page(call, endpoint, cursor, 0, size)

	def page(self, call: Call, endpoint: str, cursor: str, start: int, size: int) -> dict:
		records = self._cursors[cursor]
		end = start + size
		body = {"totalSize": len(records), "done": end >= len(records), "records": records[start:end]}
		if end < len(records):
			body["nextRecordsUrl"] = f"{call.base}/{endpoint}/{cursor}-{end}"
		else:
			with self.org.lock:
				self._cursors.pop(cursor, None)
		return body

	def next_page(self, call: Call, endpoint: str, locator: str) -> dict:
		cursor, _, start = locator.partition("-")
		if cursor not in self._cursors or not start.isdigit():
			raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
		return self.page(call, endpoint, cursor, int(start), self.page_size(call))

	# sObjects

	def sobjects(self, call: Call, parts: list[str], method: str) -> Response:
		if not parts:
			return self.describe_global(call, method)

		sobject = self.org.schema.get(parts[0])
		if sobject is None:
			raise not_found()
		rest = parts[1:]
		if not rest:
			return self.sobject_root(call, sobject, method)
		if rest == ["describe"] and method == "GET":
			return Response.of_json(200, self.describe(call, sobject))
		if len(rest) == 1 and rest[0] in ("updated", "deleted") and method == "GET":
			return Response.of_json(200, self.replication(call, sobject, rest[0]))
		if len(rest) == 1:
			return self.record(call, sobject, rest[0], method)
		if len(rest) == 2:
			return self.by_external_id(call, sobject, rest[0], rest[1], method)
		raise not_found()

	def describe(self, call: Call, sobject) -> dict:
		described = sobject.describe(call.base)
		if sobject.name == "Opportunity":
			# the stage picklist is the org's stage table, renames included
			stages = [stage.label for stage in self.org.stages if stage.active]
			for each in described["fields"]:
				if each["name"] == "StageName":
					each["picklistValues"] = [
						{
							"active": True,
							"defaultValue": False,
							"label": label,
							"value": label,
							"validFor": None,
						}
						for label in stages
					]
		return described

	def describe_global(self, call: Call, method: str) -> Response:
		if method != "GET":
			raise not_found()
		described = [each.describe_global(call.base) for each in self.org.schema.types.values()]
		return Response.of_json(200, {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": described})

	def sobject_root(self, call: Call, sobject, method: str) -> Response:
		if method == "GET":
			return Response.of_json(
				200, {"objectDescribe": sobject.describe_global(call.base), "recentItems": []}
			)
		if method == "POST":
			values = self.body_object(call.request)
			record_id = self.org.create(sobject.name, values)
			return Response.of_json(201, {"id": record_id, "success": True, "errors": []})
		raise ApiError(
			405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are HEAD,GET,POST"
		)

	def record(self, call: Call, sobject, record_id: str, method: str) -> Response:
		self.raise_record_fault(call, record_id)
		if method == "GET":
			record = self.org.get(sobject.name, record_id)
			return Response.of_json(
				200, self.record_json(call, sobject, record, call.request.query.get("fields"))
			)
		if method == "PATCH":
			self.org.update(sobject.name, record_id, self.body_object(call.request))
			return Response.empty()
		if method == "DELETE":
			self.org.delete(sobject.name, record_id)
			return Response.empty()
		raise ApiError(
			405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are GET,PATCH,DELETE"
		)

	def by_external_id(self, call: Call, sobject, field_name: str, value: str, method: str) -> Response:
		key_field = sobject.field(field_name)
		if key_field is None or not (key_field.external_id or key_field.name == "Id"):
			raise ApiError(
				404,
				"NOT_FOUND",
				f"Provided external ID field does not exist or is not accessible: {field_name}",
			)
		if method == "PATCH":
			record_id, created = self.org.upsert(
				sobject.name, key_field.name, value, self.body_object(call.request)
			)
			return Response.of_json(
				201 if created else 200, {"id": record_id, "success": True, "errors": [], "created": created}
			)

		matches = [row for row in self.org.rows(sobject.name) if str(row.get(key_field.name)) == value]
		if not matches:
			raise not_found()
		if len(matches) > 1:
			urls = [f"{call.base}/sobjects/{sobject.name}/{row['Id']}" for row in matches]
			return Response.of_json(300, urls)
		if method == "GET":
			return Response.of_json(
				200, self.record_json(call, sobject, matches[0], call.request.query.get("fields"))
			)
		if method == "DELETE":
			self.org.delete(sobject.name, matches[0]["Id"])
			return Response.empty()
		raise ApiError(
			405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are GET,PATCH,DELETE"
		)

	def record_json(self, call: Call, sobject, record: dict, fields: str | None = None) -> dict:
		out = {
			"attributes": {"type": sobject.name, "url": f"{call.base}/sobjects/{sobject.name}/{record['Id']}"}
		}
		if fields:
			wanted = []
			for name in fields.split(","):
				found = sobject.field(name.strip())
				if found is None:
					raise ApiError(
						400, "INVALID_FIELD", f"No such column '{name.strip()}' on entity '{sobject.name}'."
					)
				wanted.append(found)
			wanted = [sobject.field("Id"), *[each for each in wanted if each.name != "Id"]]
		else:
			wanted = list(sobject.fields.values())
		for each in wanted:
			out[each.name] = to_json(each, record.get(each.name))
		return out

	def replication(self, call: Call, sobject, kind: str) -> dict:
		start, end = self.replication_window(call)
		if kind == "updated":
			changed = [
				row["Id"] for row in self.org.rows(sobject.name) if start <= row["SystemModstamp"] < end
			]
			return {"ids": changed, "latestDateCovered": format_datetime(end)}

		deleted = [
			{"id": row["Id"], "deletedDate": format_datetime(row["_deleted_at"])}
			for row in self.org.deleted_rows(sobject.name)
			if start <= row["_deleted_at"] < end
		]
		return {
			"deletedRecords": deleted,
			"earliestDateAvailable": format_datetime(self.org.clock.now() - timedelta(days=15)),
			"latestDateCovered": format_datetime(end),
		}

	def replication_window(self, call: Call):
		query = call.request.query
		try:
			start = parse_datetime(query["start"])
			end = parse_datetime(query["end"])
		except (KeyError, ValueError):
			raise ApiError(400, "MALFORMED_QUERY", "start and end must be dateTime values") from None
		if end - start < timedelta(minutes=1):
			raise ApiError(
				400,
				"INVALID_REPLICATION_DATE",
				"startDate must chronologically precede endDate by more than one minute",
			)
		if self.org.clock.now() - start > timedelta(days=30):
			raise ApiError(400, "INVALID_REPLICATION_DATE", "startDate cannot be more than 30 days ago")
		return start, end

	@staticmethod
	def body_object(request: Request) -> dict:
		body = request.json()
		if not isinstance(body, dict):
			raise ApiError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
		return body

	@staticmethod
	def raise_record_fault(call: Call, record_id: str | None) -> None:
		fault = call.record_fault
		if fault is None or record_id is None or not ids.is_valid_id(record_id):
			return
		if ids.to_18(record_id) == ids.to_18(fault.record_id):
			error = fault.body[0]
			raise ApiError(fault.status, error["errorCode"], error["message"], error.get("fields"))

	# composite

	def composite(self, call: Call, parts: list[str], method: str) -> Response:
		if parts[:1] == ["sobjects"]:
			return self.collections(call, parts[1:], method)
		if parts or method != "POST":
			raise not_found()

		body = self.body_object(call.request)
		subrequests = body.get("compositeRequest")
		if not isinstance(subrequests, list) or not subrequests:
			raise ApiError(400, "JSON_PARSER_ERROR", "compositeRequest is required")
		if len(subrequests) > COMPOSITE_LIMIT:
			raise ApiError(
				400, "LIMIT_EXCEEDED", f"Composite request can't have more than {COMPOSITE_LIMIT} subrequests"
			)
		_require_subrequest_objects(subrequests)
		return Response.of_json(
			200, {"compositeResponse": self.run_composite(call, subrequests, bool(body.get("allOrNone")))}
		)

	def run_composite(self, call: Call, subrequests: list[dict], all_or_none: bool) -> list[dict]:
		results: dict[str, dict] = {}
		answers: list[dict] = []
		failed = False
		with self.org.lock:
			try:
				with self.org.atomic():
					for sub in subrequests:
						answer = self.run_subrequest(call, sub, results, halted=failed and all_or_none)
						answers.append(answer)
						failed = failed or answer["httpStatusCode"] >= 400
					if failed and all_or_none:
						raise _RollBack()
			except _RollBack:
				answers = [self.rolled_back(answer) for answer in answers]
		return answers

	def run_subrequest(self, call: Call, sub: dict, results: dict, *, halted: bool) -> dict:
		reference = sub.get("referenceId")
		if halted:
			return self.halted(
				reference,
				"The transaction was rolled back since another operation in the same transaction failed.",
			)
		try:
			url = self.resolve_references(sub.get("url", ""), results)
			body = self.resolve_references(sub.get("body"), results)
		except KeyError as missing:
			return self.halted(
				reference,
				f"Invalid reference specified. No value for {missing.args[0]} found in {reference}.",
			)

		response = self.dispatch_subrequest(call, sub.get("method", "GET"), url, body)
		payload = response.payload()
		if reference:
			results[reference] = payload if response.status < 400 else None
		headers = {}
		if response.status == 201 and isinstance(payload, dict) and payload.get("id"):
			# a created record's answer names it in Location, as the composite guide shows
			headers["Location"] = f"{url.split('?')[0].rstrip('/')}/{payload['id']}"
		return {
			"body": payload,
			"httpHeaders": headers,
			"httpStatusCode": response.status,
			"referenceId": reference,
		}

	def dispatch_subrequest(self, call: Call, method: str, url: str, body) -> Response:
		match = re.match(r"^/services/data/v(\d+\.\d+)/([^?]*)(\?.*)?$", url)
		if not match:
			return Response.of_error(not_found())
		request = Request(
			method.upper(),
			url,
			{"Content-Type": "application/json"},
			json.dumps(body).encode() if body is not None else b"",
		)
		sub_call = Call(match.group(1), match.group(2), request, call.record_fault)
		try:
			with self.org.savepoint():
				return self.handle(sub_call)
		except ApiError as error:
			return Response.of_error(error)

	@staticmethod
	def halted(reference, message: str) -> dict:
		body = [{"errorCode": "PROCESSING_HALTED", "message": message}]
		return {"body": body, "httpHeaders": {}, "httpStatusCode": 400, "referenceId": reference}

	def rolled_back(self, answer: dict) -> dict:
		if answer["httpStatusCode"] >= 400:
			return answer
		return self.halted(
			answer["referenceId"],
			"The transaction was rolled back since another operation in the same transaction failed.",
		)

	def resolve_references(self, value, results: dict):
		"""Replace `@{ref.path}` in a URL or body with the value found in an earlier answer."""
		if isinstance(value, str):
			return REFERENCE_PATTERN.sub(lambda match: str(self.lookup_reference(match, results)), value)
		if isinstance(value, dict):
			return {key: self.resolve_references(item, results) for key, item in value.items()}
		if isinstance(value, list):
			return [self.resolve_references(item, results) for item in value]
		return value

	@staticmethod
	def lookup_reference(match: re.Match, results: dict):
		name, path = match.group(1), match.group(2)
		current = results.get(name)
		if current is None:
			raise KeyError(f"{name}.{path}")
		for step in re.findall(r"([A-Za-z0-9_]+)|\[(\d+)\]", path):
			key, index = step
			try:
				current = current[int(index)] if index else current[key]
			except (KeyError, IndexError, TypeError):
				raise KeyError(f"{name}.{path}") from None
		return current

	# sObject Collections

	def collections(self, call: Call, parts: list[str], method: str) -> Response:
		# TODO: upsert through collections (PATCH composite/sobjects/{type}/{field}) answers 404 — the
		# connector updates by Id today; add it with the first caller that upserts in bulk
		if method == "DELETE":
			query = call.request.query
			targets = [each for each in (query.get("ids") or "").split(",") if each]
			return Response.of_json(200, self.delete_many(call, targets, query.get("allOrNone") == "true"))
		if method == "GET" and len(parts) == 1:
			return Response.of_json(200, self.retrieve_many(call, parts[0]))

		body = self.body_object(call.request)
		records = body.get("records")
		if not isinstance(records, list):
			raise ApiError(400, "JSON_PARSER_ERROR", "records is required")
		_require_record_objects(records)
		if len(records) > COLLECTION_LIMIT:
			raise ApiError(
				400,
				"EXCEEDED_ID_LIMIT",
				f"record limit reached. cannot submit more than {COLLECTION_LIMIT} records into this call",
			)
		if method == "POST":
			return Response.of_json(
				200, self.write_many(call, records, bool(body.get("allOrNone")), creating=True)
			)
		if method == "PATCH":
			return Response.of_json(
				200, self.write_many(call, records, bool(body.get("allOrNone")), creating=False)
			)
		raise not_found()

	def write_many(self, call: Call, records: list[dict], all_or_none: bool, *, creating: bool) -> list[dict]:
		def write(record: dict) -> dict:
			sobject = (record.get("attributes") or {}).get("type")
			if not sobject or self.org.schema.get(sobject) is None:
				raise ApiError(400, "INVALID_TYPE", "Must send a concrete entity type.")
			values = {key: value for key, value in record.items() if key != "attributes"}
			if creating:
				return {"id": self.org.create(sobject, values), "success": True, "errors": []}

			record_id = next((value for key, value in values.items() if key.lower() == "id"), None)
			if not record_id:
				raise ApiError(400, "MISSING_ARGUMENT", "Id not specified in an update call")
			self.raise_record_fault(call, record_id)
			self.org.update(sobject, record_id, values)
			return {"id": ids.to_18(record_id), "success": True, "errors": []}

		return self.each_record(records, write, all_or_none, id_of=lambda record: _record_id(record))

	def delete_many(self, call: Call, targets: list[str], all_or_none: bool) -> list[dict]:
		if len(targets) > COLLECTION_LIMIT:
			raise ApiError(
				400, "EXCEEDED_ID_LIMIT", f"cannot delete more than {COLLECTION_LIMIT} records at once"
			)

		def remove(record_id: str) -> dict:
			self.raise_record_fault(call, record_id)
			found = self.org.find_any(record_id)
			if found is None:
				raise ApiError(
					404,
					"ENTITY_IS_DELETED" if self.is_binned(record_id) else "INVALID_CROSS_REFERENCE_KEY",
					"entity is deleted" if self.is_binned(record_id) else "invalid cross reference id",
				)
			self.org.delete(found[0].name, record_id)
			return {"id": ids.to_18(record_id), "success": True, "errors": []}

		return self.each_record(targets, remove, all_or_none, id_of=lambda record_id: record_id)

	def is_binned(self, record_id: str) -> bool:
		if not ids.is_valid_id(record_id):
			return False
		sobject = self.org.schema.by_prefix(record_id[:3])
		return bool(sobject) and any(
			row["Id"] == ids.to_18(record_id) for row in self.org.deleted_rows(sobject.name)
		)

	def each_record(self, items: list, operation, all_or_none: bool, *, id_of) -> list[dict]:
		"""Run `operation` per item; each failure becomes that item's errors. With allOrNone,
		one failure rolls back every record and the others report ALL_OR_NONE_OPERATION_ROLLED_BACK."""
		results = []
		with self.org.lock:
			try:
				with self.org.atomic():
					for item in items:
						results.append(self.one_record(item, operation, id_of))
					if all_or_none and any(not result["success"] for result in results):
						raise _RollBack()
			except _RollBack:
				results = [
					result
					if not result["success"]
					else {"id": None, "success": False, "errors": [ROLLED_BACK.collection_error()]}
					for result in results
				]
		return results

	def one_record(self, item, operation, id_of) -> dict:
		try:
			with self.org.savepoint():
				return operation(item)
		except ApiError as error:
			return {"id": id_of(item), "success": False, "errors": [error.collection_error()]}

	def retrieve_many(self, call: Call, sobject_name: str) -> list:
		sobject = self.org.schema.get(sobject_name)
		if sobject is None:
			raise not_found()
		fields = call.request.query.get("fields")
		if not fields:
			raise ApiError(400, "MISSING_ARGUMENT", "fields is required")
		answer = []
		for record_id in (call.request.query.get("ids") or "").split(","):
			record = self.org.find(sobject.name, record_id)
			answer.append(self.record_json(call, sobject, record, fields) if record else None)
		return answer


class _RollBack(Exception):
	pass


def _require_subrequest_objects(subrequests: list) -> None:
	# method, url and referenceId are text in the composite request body; anything else cannot be
	# routed or referred to, so the whole request is refused before any subrequest runs
	for index, sub in enumerate(subrequests):
		if not isinstance(sub, dict) or any(
			not isinstance(sub.get(key, ""), str) for key in ("method", "url", "referenceId")
		):
			raise ApiError(
				400,
				"JSON_PARSER_ERROR",
				f"compositeRequest[{index}] must be an object whose method, url and referenceId are text",
			)


def _require_record_objects(records: list) -> None:
	# a record that is not an object (or whose attributes are not) cannot be read as an sObject
	# at all, so the whole call is refused, as a body that does not parse is
	for index, record in enumerate(records):
		if not isinstance(record, dict) or not isinstance(record.get("attributes", {}), dict | None):
			raise ApiError(
				400,
				"JSON_PARSER_ERROR",
				f"records[{index}] must be a JSON object with an attributes object, not {record!r}"[:300],
			)


def _record_id(record) -> str | None:
	if not isinstance(record, dict):
		return None
	value = next((value for key, value in record.items() if key.lower() == "id"), None)
	return ids.to_18(value) if isinstance(value, str) and ids.is_valid_id(value) else None
