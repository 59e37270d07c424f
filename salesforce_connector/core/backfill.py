"""Frappe-free parts of backfill and polling: which records to ask Salesforce for, in what shape they
reach the pipeline, where polling starts, and the words a run prints.

Every SOQL text is built with simple-salesforce's `format_soql`: field names are checked against the
object's describe and the API-name pattern, values are quoted by their Salesforce type, so nothing an
admin types on the command line becomes SOQL syntax.
"""

import csv
import io
import json
import logging
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from simple_salesforce.format import format_soql
from simple_salesforce.util import call_salesforce

from salesforce_connector.core.client import API_NAME
from salesforce_connector.core.errors import ConnectorError, PermanentSalesforceError

logger = logging.getLogger(__name__)

# TODO: Contacts are not backfilled on their own (a converted Lead brings its Contact, polling takes
# changed ones) — a Contact selection needs its Account synced first, as process_contact does.
BACKFILL_OBJECTS = ("Account", "Lead", "Opportunity")

# Bulk API 2.0 query jobs "are designed to handle queries that return large amounts of data (10,000
# records or more)"; below that, REST query pages are faster to start and cheaper in API calls
# (https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/queries.htm).
BULK_THRESHOLD = 10_000

# The longest an Apex transaction may run; a record saved in one commits at most this long after its
# SystemModstamp was set, so polling looks back this far behind its watermark ("Execution Governors
# and Limits": maximum execution time for each Apex transaction, 10 minutes).
DEFAULT_OVERLAP = timedelta(minutes=10)

TEXT_TYPES = {
	"string", "picklist", "multipicklist", "textarea", "id", "reference", "email", "phone", "url",
	"combobox", "encryptedstring",
}  # fmt: skip
NUMBER_TYPES = {"int", "long", "double", "currency", "percent"}
OPERATORS = ("!=", "<=", ">=", "=", "<", ">", "LIKE", "NOT IN", "IN")
CONDITION = re.compile(
	r"^\s*(?P<field>[A-Za-z][A-Za-z0-9_]*)\s*(?P<operator>!=|<=|>=|=|<|>|\bNOT\s+IN\b|\bIN\b|\bLIKE\b)\s*"
	r"(?P<value>.*?)\s*$",
	re.IGNORECASE | re.DOTALL,
)


class SelectionError(ConnectorError):
	"""What an admin asked to select cannot be turned into a query; the message says why."""


@dataclass(frozen=True)
class Condition:
	"""One `--where` condition, checked against the object's fields and typed by them."""

	field: str
	operator: str
	value: object

	def soql(self) -> str:
		return format_soql(
			"{field:literal} {operator:literal} {value}",
			field=self.field,
			operator=self.operator,
			value=self.value,
		)


@dataclass(frozen=True)
class Selection:
	"""Which records of one object a backfill reads."""

	sobject: str
	fields: tuple[str, ...]
	date_field: str | None = None
	date_type: str | None = None
	since: date | datetime | None = None
	until: date | datetime | None = None
	conditions: tuple[Condition, ...] = ()

	def where_clauses(self) -> list[str]:
		clauses = []
		if self.since is not None:
			clauses.append(_date_clause(self.date_field, ">=", _bound(self.since, self.date_type, False)))
		if self.until is not None:
			operator = "<" if self.date_type == "datetime" and not isinstance(self.until, datetime) else "<="
			clauses.append(_date_clause(self.date_field, operator, _bound(self.until, self.date_type, True)))
		clauses.extend(condition.soql() for condition in self.conditions)
		return clauses

	def query(self, *, after_id: str | None = None, ordered: bool = True, limit: int | None = None) -> str:
		"""The SOQL text; `after_id` and `ordered` make it resumable by Id (REST only)."""
		clauses = self.where_clauses()
		if after_id:
			clauses.append(format_soql("Id > {after_id}", after_id=after_id))

		text = format_soql(
			"SELECT {fields:literal} FROM {sobject:literal}",
			fields=", ".join(self.fields),
			sobject=self.sobject,
		)
		if clauses:
			text += " WHERE " + " AND ".join(clauses)
		if ordered:
			text += " ORDER BY Id"
		if limit is not None:
			text += format_soql(" LIMIT {limit}", limit=int(limit))
		return text

	def count_query(self) -> str:
		clauses = self.where_clauses()
		text = format_soql("SELECT COUNT() FROM {sobject:literal}", sobject=self.sobject)
		return text + (" WHERE " + " AND ".join(clauses) if clauses else "")


def build_selection(
	sobject: str,
	describe: Mapping,
	wanted_fields: Iterable[str],
	*,
	date_field: str | None = None,
	since: str | None = None,
	until: str | None = None,
	conditions: Iterable[str] = (),
) -> Selection:
	"""Check every name against the describe and every value against its field's type."""
	types = field_types(describe)
	if (since or until) and not date_field:
		raise SelectionError("--since and --until need a date field (--date-field).")

	date_type = None
	if date_field:
		date_field, date_type = _known_field(types, date_field)
		if date_type not in ("date", "datetime"):
			raise SelectionError(f"{date_field} is a {date_type} field, not a date or date/time field.")

	selected = ["Id", "SystemModstamp"] + [name for name in wanted_fields if name.lower() in types]
	return Selection(
		sobject=sobject,
		fields=tuple(_unique(selected)),
		date_field=date_field,
		date_type=date_type,
		since=parse_date_bound(since, "--since") if since else None,
		until=parse_date_bound(until, "--until") if until else None,
		conditions=tuple(parse_condition(text, types) for text in conditions),
	)


def field_types(describe: Mapping) -> dict[str, tuple[str, str]]:
	"""Lower-cased field name → (API name, Salesforce type), from a describe answer."""
	return {each["name"].lower(): (each["name"], each["type"]) for each in describe.get("fields", [])}


def parse_condition(text: str, types: Mapping[str, tuple[str, str]]) -> Condition:
	"""`Field OP value`: OP one of = != < <= > >= LIKE IN NOT IN; a value may be 'quoted'.

	The value is converted to the field's type and quoted by format_soql, so quotes, parentheses and
	keywords inside it stay part of the value.
	"""
	match = CONDITION.match(text or "")
	if not match:
		raise SelectionError(
			f'Cannot read the condition {text!r}: write it as Field OPERATOR value, e.g. "StageName = Closed Won".'
		)

	name, field_type = _known_field(types, match["field"])
	operator = " ".join(match["operator"].upper().split())
	if operator == "LIKE" and field_type not in TEXT_TYPES:
		raise SelectionError(f"LIKE works on text fields only; {name} is a {field_type} field.")

	raw = match["value"]
	if operator in ("IN", "NOT IN"):
		value = [_typed(name, field_type, item) for item in _list_items(raw)]
	else:
		value = _typed(name, field_type, _unquote(raw))
	return Condition(name, operator, value)


def parse_date_bound(text: str, option: str) -> date | datetime:
	"""YYYY-MM-DD, or a date and time with a zone (2024-03-31T18:30:00Z)."""
	value = text.strip()
	try:
		if "T" in value:
			parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
			if parsed.tzinfo is None:
				raise SelectionError(f"{option} {text}: a date and time needs a zone, e.g. Z for UTC.")
			return parsed.astimezone(timezone.utc)
		return date.fromisoformat(value)
	except ValueError:
		raise SelectionError(f"{option} {text} is not a date (YYYY-MM-DD).") from None


def _known_field(types: Mapping[str, tuple[str, str]], name: str) -> tuple[str, str]:
	if not API_NAME.match(name or "") or "." in name:
		raise SelectionError(f"{name!r} is not a field name.")
	found = types.get(name.lower())
	if found is None:
		raise SelectionError(f"This org has no field {name} on the object.")
	return found


def _typed(name: str, field_type: str, text: str):
	if text.lower() == "null":
		return None
	if field_type == "boolean":
		if text.lower() not in ("true", "false"):
			raise SelectionError(f"{name} is true or false, not {text!r}.")
		return text.lower() == "true"
	if field_type in NUMBER_TYPES:
		try:
			number = Decimal(text)
		except InvalidOperation:
			raise SelectionError(f"{name} is a number, not {text!r}.") from None
		return int(number) if number == number.to_integral_value() else float(number)
	if field_type in ("date", "datetime"):
		return parse_date_bound(text, name)
	return text


def _list_items(raw: str) -> list[str]:
	body = raw.strip()
	if not (body.startswith("(") and body.endswith(")")):
		raise SelectionError(f"IN needs a list in parentheses, e.g. (A, 'B, with comma'); got {raw!r}.")
	reader = csv.reader([body[1:-1]], quotechar="'", skipinitialspace=True, escapechar="\\")
	items = [item.strip() for item in next(reader, [])]
	if not items or any(item == "" for item in items):
		raise SelectionError(f"The list {raw} has an empty item.")
	return items


def _unquote(raw: str) -> str:
	text = raw.strip()
	if len(text) >= 2 and text[0] == text[-1] == "'":
		return text[1:-1].replace("\\'", "'")
	return text


def _bound(value: date | datetime, date_type: str | None, upper: bool):
	"""A date on a date/time field is a UTC day: --until includes the whole of its day."""
	if date_type == "date":
		return value.date() if isinstance(value, datetime) else value
	if isinstance(value, datetime):
		return value
	start = datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
	return start + timedelta(days=1) if upper else start


def _date_clause(field_name: str, operator: str, value) -> str:
	return format_soql(
		"{field:literal} {operator:literal} {value}", field=field_name, operator=operator, value=value
	)


def _unique(names: Iterable[str]) -> list[str]:
	seen = set()
	return [name for name in names if not (name.lower() in seen or seen.add(name.lower()))]


# records as the pipeline reads them


def message_fields(record: Mapping) -> dict[str, str]:
	"""A REST record in the shape an Outbound Message carries it: text values, nulls left out.

	The pipeline was written for Outbound Messages, whose values are all text ("true", "1500.0") and
	which omit null fields (Outbound Messaging guide: "null fields are not included"), so a record
	read over REST is brought to the same shape. Parent and child relationships are left out.
	"""
	shaped = {}
	for name, value in record.items():
		if name == "attributes" or value is None or isinstance(value, Mapping | list):
			continue
		if isinstance(value, bool):
			shaped[name] = "true" if value else "false"
		else:
			shaped[name] = str(value)
	return shaped


def csv_records(text: str) -> Iterator[dict[str, str]]:
	"""Rows of a Bulk API 2.0 result page; an empty cell is a null, left out as in a message."""
	for row in csv.DictReader(io.StringIO(text, newline="")):
		yield {name: value for name, value in row.items() if name and value not in ("", None)}


# reading pages


@dataclass(frozen=True)
class Position:
	"""Where a run stands, so that a new process can go on from there.

	REST pages are read in Id order, so the last Id done is enough. Bulk API 2.0 results come in no
	promised order (bulk queries do not support ORDER BY), so a bulk position is the job, the locator
	of the page being read and how many of its records are done: "as long as the associated job
	exists, the locator string for a set of results does not change", and a page can be read again
	(https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/query_get_job_results.htm).
	"""

	last_id: str | None = None
	job_id: str | None = None
	locator: str = ""
	offset: int = 0

	def as_dict(self) -> dict:
		return {
			"last_id": self.last_id,
			"job_id": self.job_id,
			"locator": self.locator,
			"offset": self.offset,
		}


def read_rest(client, selection: Selection, position: Position, limit: int | None) -> Iterator[tuple]:
	"""(message-shaped fields, position after it), one query page in memory at a time."""
	soql = selection.query(after_id=position.last_id, limit=limit)
	client.ensure_budget()
	for record in client.iter_query("{soql:literal}", soql=soql):
		yield message_fields(record), Position(last_id=record["Id"])


class BulkReader:
	"""A Bulk API 2.0 query job, read page by page in constant memory.

	NOTE: each call goes through the client's `_call`, so retries, session renewal and error
	translation are the client's own.
	"""

	# TODO: move these calls into SalesforceClient as a public bulk query — it owns every other call,
	# and the reader would then need nothing private of it.

	def __init__(
		self, client, *, page_size: int = 10_000, first_wait: float = 0.5, longest_wait: float = 10.0
	):
		self.client = client
		self.page_size = page_size
		self.first_wait = first_wait
		self.longest_wait = longest_wait

	def read(self, selection: Selection, position: Position) -> Iterator[tuple]:
		job_id = position.job_id or self.start(selection.query(ordered=False))
		self.wait(job_id)

		locator, skip = position.locator, position.offset
		while True:
			text, next_locator = self.page(job_id, locator)
			done = 0
			for done, fields_ in enumerate(csv_records(text), 1):
				if done > skip:
					yield fields_, Position(job_id=job_id, locator=locator, offset=done)
			if not next_locator:
				return
			text = None  # let the finished page go before the next one arrives
			locator, skip = next_locator, 0

	def start(self, soql: str) -> str:
		body = json.dumps({"operation": "query", "query": soql})
		job = self.client._call(lambda sf: sf.restful("jobs/query", method="POST", data=body))
		logger.info("Bulk API 2.0 query job %s started", job["id"])
		return job["id"]

	def wait(self, job_id: str) -> None:
		delay = self.first_wait
		while True:
			job = self.client._call(lambda sf: sf.restful(f"jobs/query/{job_id}"))
			if job["state"] == "JobComplete":
				return
			if job["state"] in ("Failed", "Aborted"):
				raise PermanentSalesforceError(
					f"Bulk query job {job_id} ended {job['state']}: {job.get('errorMessage') or 'no reason given'}",
					code="BULK_JOB_" + job["state"].upper(),
				)
			time.sleep(delay)
			delay = min(delay * 2, self.longest_wait)

	def page(self, job_id: str, locator: str) -> tuple[str, str]:
		"""One page of CSV and the locator of the next ("" after the last page)."""
		params = {"maxRecords": self.page_size}
		if locator:
			params["locator"] = locator
		self.client.ensure_budget()
		response = self.client._call(
			lambda sf: call_salesforce(
				f"{sf.base_url}jobs/query/{job_id}/results",
				"GET",
				sf.session,
				{**sf.headers, "Accept": "text/csv"},
				params=params,
			)
		)
		next_locator = response.headers.get("Sforce-Locator", "")
		return response.content.decode("utf-8"), "" if next_locator == "null" else next_locator


# polling windows


def poll_start(
	watermark: datetime | None, *, overlap: timedelta, now: datetime, first_look_back: timedelta
) -> datetime:
	"""Where the next poll starts: the overlap behind the watermark, or a first look back from now."""
	if watermark is None:
		return now - first_look_back - overlap
	return watermark - overlap


def next_watermark(watermark: datetime | None, modstamps: Iterable[datetime]) -> datetime | None:
	"""The newest SystemModstamp seen so far; never moves back, and never past what was seen.

	Taking the records' own time rather than this server's clock keeps a skewed clock from opening a
	gap between two polls.
	"""
	newest = max(modstamps, default=None)
	if watermark is None or (newest is not None and newest > watermark):
		return newest
	return watermark


def is_due(last_polled_at: datetime | None, interval: timedelta, now: datetime) -> bool:
	# the scheduler ticks every minute; a few seconds of jitter must not skip a whole interval
	return last_polled_at is None or now - last_polled_at >= interval - timedelta(seconds=5)


# what a run prints


@dataclass
class Counts:
	created: int = 0
	updated: int = 0
	unchanged: int = 0
	skipped: int = 0
	failed: int = 0

	@property
	def total(self) -> int:
		return sum(getattr(self, each.name) for each in fields(self))

	def add(self, outcome: str) -> None:
		setattr(self, outcome, getattr(self, outcome) + 1)

	def as_dict(self) -> dict[str, int]:
		return {each.name: getattr(self, each.name) for each in fields(self)}


OUTCOMES = tuple(each.name for each in fields(Counts))


def progress_line(
	counts: Counts, expected: int | None, elapsed: float, *, done_before: int = 0, width: int = 24
) -> str:
	"""`[#######.....] 1,200/2,000 60% | created 1,100 ... | 42.0/s, 0:19 left`.

	The rate counts the records of this process only: a resumed run's earlier records came from
	another one.
	"""
	done = counts.total
	rate = (done - done_before) / elapsed if elapsed > 0 else 0.0
	tallies = " ".join(f"{name} {getattr(counts, name):,}" for name in OUTCOMES)
	if expected:
		share = min(done / expected, 1.0)
		filled = int(share * width)
		left = max(expected - done, 0) / rate if rate else None
		head = f"[{'#' * filled}{'.' * (width - filled)}] {done:,}/{expected:,} {share:4.0%}"
		tail = f"{rate:.1f}/s" + (f", {_clock(left)} left" if left is not None else "")
	else:
		head, tail = f"{done:,} records", f"{rate:.1f}/s"
	return f"{head} | {tallies} | {tail}"


def summary_table(counts: Counts) -> list[str]:
	width = max(len(f"{counts.total:,}"), 5)
	lines = [f"{'outcome':<10} {'records':>{width}}", f"{'-' * 10} {'-' * width}"]
	lines += [f"{name:<10} {getattr(counts, name):>{width},}" for name in OUTCOMES]
	lines += [f"{'-' * 10} {'-' * width}", f"{'total':<10} {counts.total:>{width},}"]
	return lines


def _clock(seconds: float) -> str:
	whole = max(int(seconds), 0)
	hours, rest = divmod(whole, 3600)
	return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
