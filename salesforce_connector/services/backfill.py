"""Backfill: read a stretch of Salesforce history and take it, record by record, through the pipeline.

Each record becomes an inbound Sync Log row processed by the Outbound Message job, so its outcome,
its error and its Retry button are where an admin already looks. A run is a "Salesforce Backfill
Run" document: what was asked, the counts, and a checkpoint that a new process resumes from.

The job commits each record's outcome on its own, so that one failing record rolls back alone. The
checkpoint rides on those commits: before a record is handed to the job, the run notes it as in
flight in the same commit that stores the row, so a run killed at any moment resumes without losing
or counting twice a record. Records already applied make no row and are committed in batches.
"""

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import frappe
from frappe.utils import now_datetime

from salesforce_connector.constants import (
	BACKFILL_FAILURE,
	BACKFILL_RUN,
	FAILED,
	NEEDS_REVIEW,
	PROCESSING,
	QUEUED,
	SYNC_LOG,
)
from salesforce_connector.core.backfill import (
	BACKFILL_OBJECTS,
	BULK_THRESHOLD,
	BulkReader,
	Counts,
	Position,
	Selection,
	SelectionError,
	build_selection,
	read_rest,
)
from salesforce_connector.core.errors import NotFoundError, RequestLimitError, SalesforceError
from salesforce_connector.services.api_records import (
	document_exists,
	fields_to_read,
	insert_log,
	outcome_of,
	version_handled,
)
from salesforce_connector.services.settings import shared_salesforce_client
from salesforce_connector.tasks.inbound import process_sync_log

RUNNING, STOPPED, COMPLETED = "Running", "Stopped", "Completed"
REST, BULK = "REST", "Bulk API 2.0"
# records already applied make no row; their progress is committed at least this often
BATCH_SIZE = 200
# this many records in a row failing with a retryable error means Salesforce is down: stop, resume later
MAX_RETRYABLE_IN_A_ROW = 20
DRY_RUN_SAVEPOINT = "salesforce_backfill_dry_run"
LOCK_WAIT_SECONDS = 10
FAILURES_SHOWN = 20


@dataclass
class BackfillRequest:
	salesforce_object: str
	date_field: str | None = None
	since: str | None = None
	until: str | None = None
	conditions: tuple[str, ...] = ()
	limit: int | None = None
	dry_run: bool = False
	bulk_threshold: int = BULK_THRESHOLD


@dataclass
class BackfillResult:
	run: str | None
	status: str
	counts: Counts
	stop_reason: str | None = None
	failures: list[dict] = field(default_factory=list)
	dry_run: bool = False


class Progress:
	"""What a run tells the person watching it; the command prints, tests stay quiet."""

	def start(self, expected: int | None, counts: Counts) -> None:
		pass

	def update(self, counts: Counts) -> None:
		pass

	def finish(self, counts: Counts) -> None:
		pass


@dataclass
class RunState:
	"""A run as it goes: counts, position, the record in flight; saved to its document if it has one."""

	salesforce_object: str
	selection: Selection
	mode: str
	expected: int | None
	limit: int | None
	name: str | None = None
	counts: Counts = field(default_factory=Counts)
	position: Position = field(default_factory=Position)
	in_flight: dict | None = None
	failures: list[dict] = field(default_factory=list)
	retryable_in_a_row: int = 0

	@property
	def limit_reached(self) -> bool:
		return self.limit is not None and self.counts.total >= self.limit

	def advance(self, position: Position, outcome: str, failure: dict | None = None) -> None:
		self.counts.add(outcome)
		self.position = position
		self.in_flight = None
		if failure:
			self.failures.append(failure)

	def save_with_failure(self) -> None:
		"""A failure, the counts and the position that include it are committed as one."""
		if self.name:
			_insert_failure(self.name, self.failures[-1], len(self.failures))
			self.save()
			frappe.db.commit()  # nosemgrep: a failed record is recorded with its count

	def save(self, **values) -> None:
		if not self.name:
			return
		frappe.db.set_value(
			BACKFILL_RUN,
			self.name,
			{
				**self.counts.as_dict(),
				"processed": self.counts.total,
				"checkpoint": json.dumps(self.position.as_dict()),
				"in_flight": json.dumps(self.in_flight) if self.in_flight else None,
				**values,
			},
			update_modified=False,
		)


# starting, resuming, retrying


def start_backfill(request: BackfillRequest, progress: Progress | None = None) -> BackfillResult:
	"""Read the records the request selects and process each; a dry run writes nothing."""
	progress = progress or Progress()
	if request.salesforce_object not in BACKFILL_OBJECTS:
		raise SelectionError(
			f"Backfill reads {', '.join(BACKFILL_OBJECTS)}, not {request.salesforce_object}."
		)
	if request.limit is not None and request.limit < 1:
		raise SelectionError("--limit must be 1 or more.")

	with shared_salesforce_client() as client:
		state = _new_run_state(request, client)
		with _object_lock(request.salesforce_object):
			if not request.dry_run:
				state.name = _insert_run(state, request)
			return _execute(state, client, progress, dry_run=request.dry_run)


def _new_run_state(request: BackfillRequest, client) -> RunState:
	selection = build_selection(
		request.salesforce_object,
		client.describe(request.salesforce_object),
		fields_to_read(request.salesforce_object),
		date_field=request.date_field,
		since=request.since,
		until=request.until,
		conditions=request.conditions,
	)
	expected = client.count("{soql:literal}", soql=selection.count_query())
	if request.limit is not None:
		expected = min(expected, request.limit)
	return RunState(
		request.salesforce_object,
		selection,
		BULK if expected > request.bulk_threshold else REST,
		expected,
		request.limit,
	)


def resume_backfill(salesforce_object: str, progress: Progress | None = None) -> BackfillResult:
	"""Go on with the newest unfinished run of this object from its checkpoint."""
	progress = progress or Progress()
	name = frappe.db.get_value(
		BACKFILL_RUN,
		{"salesforce_object": salesforce_object, "status": ["in", [RUNNING, STOPPED]]},
		order_by="creation desc",
	)
	if not name:
		raise SelectionError(f"There is no unfinished backfill of {salesforce_object} to resume.")

	with _object_lock(salesforce_object), shared_salesforce_client() as client:
		state = _state_of_run(frappe.get_doc(BACKFILL_RUN, name), client)
		frappe.db.set_value(
			BACKFILL_RUN, name, {"status": RUNNING, "stop_reason": None}, update_modified=False
		)
		_settle_in_flight(state)
		return _execute(state, client, progress, dry_run=False)


def retry_failures(run_name: str, progress: Progress | None = None) -> BackfillResult:
	"""Process again, in place, the rows of a run that failed or need review."""
	progress = progress or Progress()
	if not frappe.db.exists(BACKFILL_RUN, run_name):
		raise SelectionError(f"There is no backfill run {run_name}.")

	rows = frappe.get_all(
		BACKFILL_FAILURE,
		filters={"parent": run_name, "parenttype": BACKFILL_RUN},
		fields=["name", "sync_log", "salesforce_id"],
		order_by="idx asc",
	)
	counts, failures = Counts(), []
	progress.start(len(rows), counts)
	with shared_salesforce_client():
		for row in rows:
			_retry_failure(row, counts, failures)
			progress.update(counts)
	progress.finish(counts)
	return BackfillResult(run_name, COMPLETED, counts, failures=failures)


def _retry_failure(row, counts: Counts, failures: list[dict]) -> None:
	outcome, status, error = _retry_row(row.sync_log)
	frappe.db.set_value(BACKFILL_FAILURE, row.name, {"status": status, "error": error})
	frappe.db.commit()  # nosemgrep: each retried row is kept as it finishes

	counts.add(outcome)
	if outcome == "failed":
		failures.append(
			{"salesforce_id": row.salesforce_id, "sync_log": row.sync_log, "status": status, "error": error}
		)


# the loop


def _execute(state: RunState, client, progress: Progress, *, dry_run: bool) -> BackfillResult:
	progress.start(state.expected, state.counts)
	status, reason = COMPLETED, None
	try:
		_read_and_process(state, client, progress, dry_run)
	except KeyboardInterrupt:
		status, reason = STOPPED, "Interrupted by the user."
	except RequestLimitError as error:
		status, reason = STOPPED, f"Stopped to spare the API budget: {error.message}"
	except SalesforceError as error:
		status, reason = STOPPED, f"Stopped: Salesforce answered {error.message}"
	except _TooManyRetryableFailures as error:
		status, reason = STOPPED, str(error)
	finally:
		frappe.db.rollback()

	_finish_run(state, status, reason, dry_run)
	progress.finish(state.counts)
	return BackfillResult(
		state.name, status, state.counts, reason, state.failures[:FAILURES_SHOWN], dry_run=dry_run
	)


def _read_and_process(state: RunState, client, progress: Progress, dry_run: bool) -> None:
	since_save = 0
	for fields, position in _records(state, client):
		if state.limit_reached:
			break

		outcome, failure = (_try_record if dry_run else _process)(state, fields, position)
		state.advance(position, outcome, failure)
		if failure:
			state.save_with_failure()
		_count_retryable(state, failure)
		progress.update(state.counts)

		since_save += 1
		if since_save >= BATCH_SIZE:
			since_save = 0
			state.save()
			frappe.db.commit()  # nosemgrep: progress over records that needed no row; a dry run holds none
			_check_budget(client)


def _records(state: RunState, client) -> Iterator[tuple[dict, Position]]:
	if state.mode == REST:
		remaining = None if state.limit is None else state.limit - state.counts.total
		yield from read_rest(client, state.selection, state.position, remaining)
		return

	reader = BulkReader(client)
	try:
		yield from reader.read(state.selection, state.position)
	except NotFoundError:
		if not state.position.job_id:
			raise
		# jobs are deleted after a while; read everything again, the records done count as unchanged
		frappe.log_error(
			title="Salesforce backfill: bulk job gone",
			message=f"Run {state.name}: job {state.position.job_id} no longer exists; reading again.",
		)
		state.position = Position()
		yield from reader.read(state.selection, state.position)


# Each record commits three times of its own (its row with the in-flight note, the job's attempt,
# its outcome): one commit per page would leave a killed run a whole page to settle. Measured with
# scripts/bench_backfill.py at 1.09x the direct inserts for 10,000 Opportunities (goal 1.2).
def _process(state: RunState, fields: dict, position: Position) -> tuple[str, dict | None]:
	"""Hand one record to the job; the row and the in-flight note are committed together first."""
	if version_handled(state.salesforce_object, fields):
		return "unchanged", None

	existed = document_exists(state.salesforce_object, fields)
	log_name = insert_log(state.salesforce_object, fields, source=_source(state))
	state.in_flight = {
		"log": log_name,
		"existed": existed,
		"id": fields["Id"],
		"position": position.as_dict(),
	}
	state.save()
	frappe.db.commit()  # nosemgrep: the row and the checkpoint that names it, together

	return _run_job(log_name, fields["Id"], existed)


# TODO: each record of a dry run is rolled back before the next, so a record that depends on another
# of the same run (two Leads converted into one Account) counts as created both times — one
# transaction for the whole run would hold the naming series' row locks for as long as it lasts.
def _try_record(state: RunState, fields: dict, position: Position) -> tuple[str, dict | None]:
	"""A dry run: the same row and job inside a transaction that is rolled back afterwards."""
	if version_handled(state.salesforce_object, fields):
		return "unchanged", None

	existed = document_exists(state.salesforce_object, fields)
	with _held_commits():
		log_name = insert_log(state.salesforce_object, fields, source=_source(state))
		frappe.db.commit()  # nosemgrep: held: becomes a savepoint in a dry run
		return _run_job(log_name, fields["Id"], existed)


def _run_job(log_name: str, salesforce_id: str, existed: bool) -> tuple[str, dict | None]:
	try:
		process_sync_log(log_name)
	except Exception as error:
		# the job records its own failures; this is the lock wait or the database itself
		frappe.db.rollback()
		_mark_row_failed(log_name, f"Could not be processed: {error!r}")

	row = frappe.db.get_value(SYNC_LOG, log_name, ["status", "error", "next_retry_at"], as_dict=True)
	outcome = outcome_of(row.status, existed)
	if outcome != "failed":
		return outcome, None
	return outcome, {
		"salesforce_id": salesforce_id,
		"sync_log": log_name,
		"status": row.status,
		"error": row.error,
		"retryable": bool(row.next_retry_at),
	}


def _settle_in_flight(state: RunState) -> None:
	"""The record a killed run had handed to the job: count its outcome, or process it now."""
	if not state.in_flight:
		return

	log_name = state.in_flight["log"]
	status = frappe.db.get_value(SYNC_LOG, log_name, "status")
	if status is None:
		# stopped before the row was committed: the record is read again from the checkpoint
		state.in_flight = None
		return
	if status in (QUEUED, PROCESSING):
		frappe.db.set_value(SYNC_LOG, log_name, "status", QUEUED, update_modified=False)
		frappe.db.commit()  # nosemgrep: the row is the job's again
	outcome, failure = _run_job(log_name, state.in_flight["id"], state.in_flight["existed"])
	state.advance(Position(**state.in_flight["position"]), outcome, failure)
	if failure:
		state.save_with_failure()
	state.save()
	frappe.db.commit()  # nosemgrep: the settled record joins the checkpoint


def _retry_row(log_name: str) -> tuple[str, str, str | None]:
	row = frappe.db.get_value(SYNC_LOG, log_name, ["status", "payload", "salesforce_object"], as_dict=True)
	if row is None:
		return "failed", "Missing", "The Sync Log row was deleted."

	existed = document_exists(row.salesforce_object, json.loads(row.payload)["fields"])
	if row.status in (FAILED, NEEDS_REVIEW):
		frappe.db.set_value(SYNC_LOG, log_name, {"status": QUEUED, "next_retry_at": None})
		frappe.db.commit()  # nosemgrep: the row is the job's again
		_run_job(log_name, "", existed)
	status, error = frappe.db.get_value(SYNC_LOG, log_name, ["status", "error"])
	return outcome_of(status, existed), status, error


# the run document


def _insert_run(state: RunState, request: BackfillRequest) -> str:
	run = frappe.get_doc(
		{
			"doctype": BACKFILL_RUN,
			"salesforce_object": request.salesforce_object,
			"status": RUNNING,
			"query_mode": state.mode,
			"date_field": state.selection.date_field,
			"since": request.since,
			"until": request.until,
			"conditions": "\n".join(request.conditions) or None,
			"record_limit": request.limit,
			"soql": state.selection.query(ordered=state.mode == REST),
			"expected": state.expected,
			"started_at": now_datetime(),
			"checkpoint": json.dumps(Position().as_dict()),
		}
	)
	run.insert(ignore_permissions=True)
	frappe.db.commit()  # nosemgrep: the run exists before its first record
	return run.name


def _state_of_run(run, client) -> RunState:
	selection = build_selection(
		run.salesforce_object,
		client.describe(run.salesforce_object),
		fields_to_read(run.salesforce_object),
		date_field=run.date_field,
		since=run.since,
		until=run.until,
		conditions=tuple(filter(None, (run.conditions or "").splitlines())),
	)
	state = RunState(
		run.salesforce_object,
		selection,
		run.query_mode,
		run.expected,
		run.record_limit or None,
		name=run.name,
		counts=Counts(**{name: run.get(name) or 0 for name in Counts().as_dict()}),
		position=Position(**json.loads(run.checkpoint or "{}")),
		in_flight=json.loads(run.in_flight) if run.in_flight else None,
	)
	state.failures = [
		{
			"salesforce_id": row.salesforce_id,
			"sync_log": row.sync_log,
			"status": row.status,
			"error": row.error,
		}
		for row in run.failures
	]
	return state


def _finish_run(state: RunState, status: str, reason: str | None, dry_run: bool) -> None:
	if dry_run or not state.name:
		return

	# a stop between a failure and its commit leaves the failure counted but not listed
	listed = set(frappe.get_all(BACKFILL_FAILURE, filters={"parent": state.name}, pluck="sync_log"))
	for idx, failure in enumerate(state.failures, 1):
		if failure["sync_log"] not in listed:
			_insert_failure(state.name, failure, idx)
	state.save(status=status, stop_reason=reason, finished_at=now_datetime() if status == COMPLETED else None)
	frappe.db.commit()  # nosemgrep: the run's end is kept


def _insert_failure(run_name: str, failure: dict, idx: int) -> None:
	frappe.get_doc(
		{
			"doctype": BACKFILL_FAILURE,
			"parent": run_name,
			"parenttype": BACKFILL_RUN,
			"parentfield": "failures",
			"idx": idx,
			"salesforce_id": failure["salesforce_id"],
			"sync_log": failure["sync_log"],
			"status": failure["status"],
			"error": (failure["error"] or "")[:1000],
		}
	).db_insert()


def _source(state: RunState) -> str:
	return f"Backfill {state.name}" if state.name else "Backfill (dry run)"


# guards


class _TooManyRetryableFailures(Exception):
	pass


def _count_retryable(state: RunState, failure: dict | None) -> None:
	state.retryable_in_a_row = state.retryable_in_a_row + 1 if failure and failure.get("retryable") else 0
	if state.retryable_in_a_row >= MAX_RETRYABLE_IN_A_ROW:
		raise _TooManyRetryableFailures(
			f"Stopped: the last {MAX_RETRYABLE_IN_A_ROW} records failed with errors that a later try may fix "
			f"(Salesforce unavailable?). The last one said: {failure['error']}"
		)


def _check_budget(client) -> None:
	"""Stop while there is still room in the day's API budget for urgent work.

	The jobs share this run's client, so the usage it last read from Sforce-Limit-Info is current.
	"""
	client.ensure_budget()


def _mark_row_failed(log_name: str, message: str) -> None:
	frappe.db.set_value(SYNC_LOG, log_name, {"status": FAILED, "error": message})
	frappe.db.commit()  # nosemgrep: the failure is kept on its own row


@contextlib.contextmanager
def _object_lock(salesforce_object: str):
	"""One run per object at a time, across processes; a killed run's lock dies with its connection.

	The wait covers a run that is just ending, or a killed one whose connection the database has not
	closed yet.
	"""
	name = f"salesforce-backfill:{frappe.local.site}:{salesforce_object}"
	if not frappe.db.sql("SELECT GET_LOCK(%s, %s)", (name, LOCK_WAIT_SECONDS))[0][0]:
		raise SelectionError(f"A backfill of {salesforce_object} is running in another process.")
	try:
		yield
	finally:
		frappe.db.sql("SELECT RELEASE_LOCK(%s)", (name,))


@contextlib.contextmanager
def _held_commits():
	"""Inside: a commit only marks a savepoint and a rollback returns to it; afterwards, all is undone.

	NOTE: the job commits as it goes, which a dry run must not do. Holding the commits keeps its
	every step, the same row and the same job, inside one transaction that the dry run rolls back.
	"""
	db = frappe.db
	rollback: Callable = db.rollback
	db.savepoint(DRY_RUN_SAVEPOINT)
	db.commit = lambda: db.savepoint(DRY_RUN_SAVEPOINT)
	db.rollback = lambda save_point=None: rollback(save_point=save_point or DRY_RUN_SAVEPOINT)
	try:
		yield
	finally:
		del db.commit, db.rollback
		db.rollback()
