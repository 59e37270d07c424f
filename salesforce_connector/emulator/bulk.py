"""Bulk API 2.0 query and ingest jobs, as simple-salesforce's bulk2 module drives them.

Jobs run to completion as soon as they can (a query on creation, an ingest job when its upload is
marked complete), so a client's wait loop sees JobComplete on its first look
(https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/bulk_api_2_0.htm).
"""

import base64
import csv
import io
from dataclasses import dataclass, field

from salesforce_connector.emulator import ids
from salesforce_connector.emulator.errors import ApiError, not_found
from salesforce_connector.emulator.soql import FieldPath, Query, Runner, compile_query
from salesforce_connector.emulator.values import format_datetime, to_text
from salesforce_connector.emulator.wire import Response

DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^", "BACKQUOTE": "`"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
INGEST_OPERATIONS = {"insert", "update", "upsert", "delete", "hardDelete"}
CSV_TYPE = "text/csv;charset=UTF-8"


@dataclass
class Job:
	id: str
	kind: str
	operation: str
	sobject: str
	created: object
	delimiter: str = "COMMA"
	line_ending: str = "LF"
	external_id: str | None = None
	state: str = "Open"
	header: list[str] = field(default_factory=list)
	rows: list[list[str]] = field(default_factory=list)
	upload: str = ""
	successes: list[list[str]] = field(default_factory=list)
	failures: list[list[str]] = field(default_factory=list)
	version: str = "59.0"

	def info(self) -> dict:
		body = {
			"id": self.id,
			"operation": self.operation,
			"object": self.sobject,
			"createdDate": format_datetime(self.created),
			"systemModstamp": format_datetime(self.created),
			"state": self.state,
			"concurrencyMode": "Parallel",
			"contentType": "CSV",
			"apiVersion": float(self.version),
			"lineEnding": self.line_ending,
			"columnDelimiter": self.delimiter,
			"numberRecordsProcessed": len(self.rows)
			if self.kind == "query"
			else len(self.successes) + len(self.failures),
			"retries": 0,
			"totalProcessingTime": 0,
		}
		if self.kind == "ingest":
			body["numberRecordsFailed"] = len(self.failures)
			body["externalIdFieldName"] = self.external_id
			body["contentUrl"] = f"services/data/v{self.version}/jobs/ingest/{self.id}/batches"
		return body


class BulkApi:
	@classmethod
	def of(cls, org) -> "BulkApi":
		# one job registry per org, made on first use
		with org.lock:
			if not hasattr(org, "_bulk_api"):
				org._bulk_api = cls(org)
		return org._bulk_api

	def __init__(self, org):
		self.org = org
		self.jobs: dict[str, Job] = {}

	def handle(self, call, parts: list[str]) -> Response:
		method = call.request.method
		if not parts or parts[0] not in ("query", "ingest"):
			raise not_found()
		kind, rest = parts[0], parts[1:]

		if not rest and method == "POST":
			return Response.of_json(200, self.create(call, kind).info())
		if not rest and method == "GET":
			jobs = [job.info() for job in self.jobs.values() if job.kind == kind]
			return Response.of_json(200, {"done": True, "records": jobs, "nextRecordsUrl": None})

		job = self.jobs.get(rest[0])
		if job is None or job.kind != kind:
			raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
		return self.job_call(call, job, rest[1:], method)

	def job_call(self, call, job: Job, rest: list[str], method: str) -> Response:
		if job.kind == "query" and job.state == "UploadComplete":
			# the query ran when the job was made; from the first look on it is complete
			job.state = "JobComplete"
		if not rest and method == "GET":
			return Response.of_json(200, job.info())
		if not rest and method == "PATCH":
			return Response.of_json(200, self.change_state(job, call.request.json() or {}))
		if not rest and method == "DELETE":
			self.jobs.pop(job.id, None)
			return Response.empty()
		if rest == ["results"] and method == "GET" and job.kind == "query":
			return self.query_results(call, job)
		if rest == ["batches"] and method == "PUT" and job.kind == "ingest":
			return self.upload(call, job)
		if len(rest) == 1 and method == "GET" and job.kind == "ingest":
			return self.ingest_results(job, rest[0])
		raise not_found()

	# creating jobs

	def create(self, call, kind: str) -> Job:
		body = call.request.json() or {}
		delimiter = body.get("columnDelimiter", "COMMA")
		line_ending = body.get("lineEnding", "LF")
		if delimiter not in DELIMITERS or line_ending not in LINE_ENDINGS:
			raise ApiError(400, "INVALIDJOB", "InvalidJob : unsupported columnDelimiter or lineEnding")
		job_id = self.org.ids.new_id("750")
		if kind == "query":
			job = self.query_job(body, job_id, delimiter, line_ending)
		else:
			job = self.ingest_job(body, job_id, delimiter, line_ending)
		job.version = call.version
		self.jobs[job_id] = job
		return job

	def query_job(self, body: dict, job_id: str, delimiter: str, line_ending: str) -> Job:
		operation = body.get("operation")
		if operation not in ("query", "queryAll"):
			raise ApiError(400, "INVALIDJOB", f"InvalidJob : unsupported operation {operation}")
		query = compile_query(self.org.schema, body.get("query") or "")
		if query.count_only or any(isinstance(item, Query) for item in query.select):
			raise ApiError(
				400, "INVALIDJOB", "InvalidJob : COUNT() and child relationship queries are not supported"
			)

		job = Job(
			job_id, "query", operation, query.sobject.name, self.org.clock.now(), delimiter, line_ending
		)
		runner = Runner(self.org, "59.0")
		paths: list[FieldPath] = query.select
		job.header = [path.text for path in paths]
		rows = runner.rows(query, include_deleted=operation == "queryAll")
		job.rows = [[to_text(runner.value(row, path)) for path in paths] for row in rows]
		job.state = "UploadComplete"
		return job

	def ingest_job(self, body: dict, job_id: str, delimiter: str, line_ending: str) -> Job:
		operation = body.get("operation")
		sobject = self.org.schema.get(body.get("object") or "")
		if operation not in INGEST_OPERATIONS:
			raise ApiError(400, "INVALIDJOB", f"InvalidJob : unsupported operation {operation}")
		if sobject is None:
			raise ApiError(400, "INVALIDJOB", f"InvalidJob : Unable to find object: {body.get('object')}")
		if operation == "upsert" and not body.get("externalIdFieldName"):
			raise ApiError(400, "INVALIDJOB", "InvalidJob : External ID was blank for upsert")
		return Job(
			job_id,
			"ingest",
			operation,
			sobject.name,
			self.org.clock.now(),
			delimiter,
			line_ending,
			external_id=body.get("externalIdFieldName"),
		)

	# state changes

	def change_state(self, job: Job, body: dict) -> dict:
		wanted = body.get("state")
		if wanted == "Aborted" and job.state not in ("JobComplete", "Failed"):
			job.state = "Aborted"
		elif wanted == "UploadComplete" and job.kind == "ingest" and job.state == "Open":
			job.state = "UploadComplete"
			self.process(job)
		else:
			raise ApiError(
				400, "INVALIDJOBSTATE", f"Invalid job state transition from {job.state} to {wanted}"
			)
		return job.info()

	# query results

	def query_results(self, call, job: Job) -> Response:
		size = int(call.request.query.get("maxRecords") or 50000)
		start = _decode_locator(call.request.query.get("locator"))
		chunk = job.rows[start : start + size]
		next_start = start + size
		locator = _encode_locator(next_start) if next_start < len(job.rows) else "null"
		text = self.csv_text(job, job.header, chunk)
		headers = {"Sforce-Locator": locator, "Sforce-NumberOfRecords": str(len(chunk))}
		return Response(200, text.encode("utf-8"), CSV_TYPE, headers)

	def csv_text(self, job: Job, header: list[str], rows: list[list[str]]) -> str:
		buffer = io.StringIO()
		writer = csv.writer(
			buffer,
			delimiter=DELIMITERS[job.delimiter],
			lineterminator=LINE_ENDINGS[job.line_ending],
			quoting=csv.QUOTE_ALL,
		)
		writer.writerow(header)
		writer.writerows(rows)
		return buffer.getvalue()

	# ingest

	def upload(self, call, job: Job) -> Response:
		if job.state != "Open":
			raise ApiError(400, "INVALIDJOBSTATE", f"Job is in state {job.state}, data cannot be uploaded")
		job.upload += call.request.body.decode("utf-8")
		return Response.empty(201)

	def process(self, job: Job) -> None:
		reader = csv.reader(io.StringIO(job.upload, newline=""), delimiter=DELIMITERS[job.delimiter])
		rows = [row for row in reader if row]
		if not rows:
			job.state = "Failed"
			return
		job.header, data = rows[0], rows[1:]
		for row in data:
			self.ingest_row(job, row)
		job.state = "JobComplete"

	def ingest_row(self, job: Job, row: list[str]) -> None:
		values = {}
		for name, text in zip(job.header, row, strict=False):
			if text == "":
				continue
			# Bulk API writes #N/A to set a field to null
			values[name] = None if text == "#N/A" else text
		record_id = next((value for key, value in values.items() if key.lower() == "id"), None)
		try:
			record_id, created = self.apply(job, values, record_id)
		except ApiError as error:
			message = f"{error.error_code}:{error.message}:{'--'.join(error.fields)}"
			job.failures.append([record_id or "", message, *row])
			return
		job.successes.append([record_id, "true" if created else "false", *row])

	def apply(self, job: Job, values: dict, record_id: str | None) -> tuple[str, bool]:
		if job.operation == "insert":
			return self.org.create(job.sobject, values), True
		if job.operation == "upsert":
			key = next(
				(value for name, value in values.items() if name.lower() == job.external_id.lower()), None
			)
			if key is None:
				raise ApiError(400, "MISSING_ARGUMENT", f"{job.external_id} not specified")
			return self.org.upsert(job.sobject, job.external_id, key, values)
		if not record_id:
			raise ApiError(400, "MISSING_ARGUMENT", "Id not specified")
		if job.operation == "update":
			self.org.update(job.sobject, record_id, values)
		else:
			self.org.delete(job.sobject, record_id)
		return ids.to_18(record_id), False

	def ingest_results(self, job: Job, which: str) -> Response:
		if which == "successfulResults":
			text = self.csv_text(job, ["sf__Id", "sf__Created", *job.header], job.successes)
		elif which == "failedResults":
			text = self.csv_text(job, ["sf__Id", "sf__Error", *job.header], job.failures)
		elif which == "unprocessedRecords":
			text = self.csv_text(job, job.header, [])
		else:
			raise not_found()
		return Response(200, text.encode("utf-8"), CSV_TYPE)


def _encode_locator(offset: int) -> str:
	return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def _decode_locator(locator: str | None) -> int:
	if not locator or locator == "null":
		return 0
	try:
		return int(base64.b64decode(locator + "=" * (-len(locator) % 4)).decode())
	except ValueError:
		raise ApiError(400, "INVALIDLOCATOR", f"Invalid locator: {locator}") from None
