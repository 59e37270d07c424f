"""Bench commands of the connector."""

import sys
from pathlib import Path

import click

from frappe.commands import get_site, pass_context


@click.command("salesforce-replay")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--token", help="Endpoint token, when Settings require one.")
@click.option("--tsv", is_flag=True, help="Print tab-separated values instead of an aligned table.")
@click.option(
	"--queue-only",
	is_flag=True,
	help="Record the notifications and leave them to the background workers instead of processing them here.",
)
@pass_context
def salesforce_replay(context, path: Path, token: str | None, tsv: bool, queue_only: bool):
	"""Replay Outbound Message XML files (a file or a folder of *.xml) and print what each became.

	Each file goes through the same checks and Sync Log rows as a message Salesforce posts to the
	endpoint; then, unless --queue-only, its rows are processed here as a worker would.
	"""
	import frappe

	from salesforce_connector.services.replay import replay_files

	site = get_site(context)
	frappe.init(site=site)
	frappe.connect()
	try:
		files = sorted(path.glob("*.xml")) if path.is_dir() else [path]
		if not files:
			raise click.ClickException(f"No .xml files in {path}")
		lines = list(replay_files(files, token=token, process=not queue_only))
		click.echo("\n".join(lines) if tsv else _aligned(lines))
	finally:
		frappe.destroy()


def _aligned(lines: list[str]) -> str:
	rows = [line.split("\t") for line in lines]
	widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
	return "\n".join(
		"  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
	)


commands = [salesforce_replay]


class TerminalProgress:
	"""A progress line on stderr, redrawn in place on a terminal and printed now and then elsewhere."""

	def __init__(self, label: str):
		import sys
		import time

		self.label = label
		self.stream = sys.stderr
		self.on_terminal = self.stream.isatty()
		self.clock = time.monotonic
		self.started = self.last_drawn = self.clock()
		self.expected = None
		self.done_before = 0

	def start(self, expected, counts) -> None:
		self.expected = expected
		self.started = self.clock()
		self.done_before = counts.total
		self._draw(counts, force=True)

	def update(self, counts) -> None:
		self._draw(counts)

	def finish(self, counts) -> None:
		self._draw(counts, force=True)
		if self.on_terminal:
			self.stream.write("\n")

	def _draw(self, counts, force: bool = False) -> None:
		from salesforce_connector.core.backfill import progress_line

		now = self.clock()
		# a terminal line is redrawn five times a second; a log file gets a line every ten seconds
		if not force and now - self.last_drawn < (0.2 if self.on_terminal else 10):
			return
		self.last_drawn = now
		line = progress_line(counts, self.expected, now - self.started, done_before=self.done_before)
		if self.on_terminal:
			self.stream.write(f"\r{self.label} {line}")
		else:
			self.stream.write(f"{self.label} {line}\n")
		self.stream.flush()


@click.command("salesforce-backfill")
@click.option(
	"--object",
	"salesforce_object",
	type=click.Choice(["Account", "Lead", "Opportunity"]),
	help="What to read. An Opportunity brings its Account and line items.",
)
@click.option("--since", metavar="DATE", help="First day to read, YYYY-MM-DD (or a UTC date and time).")
@click.option("--until", metavar="DATE", help="Last day to read, included.")
@click.option(
	"--date-field",
	metavar="FIELD",
	help="The date or date/time field --since and --until apply to. Default: CreatedDate.",
)
@click.option(
	"--where",
	"conditions",
	multiple=True,
	metavar="CONDITION",
	help='Field OPERATOR value, e.g. "StageName = Closed Won"; may be given more than once (all apply).',
)
@click.option("--limit", type=click.IntRange(min=1), help="Read at most this many records.")
@click.option("--dry-run", is_flag=True, help="Process every record and roll it all back: counts only.")
@click.option("--resume", is_flag=True, help="Go on with the last unfinished run of --object.")
@click.option("--retry-failed", metavar="RUN", help="Process again the failed records of a run.")
@click.option(
	"--bulk-threshold",
	type=click.IntRange(min=0),
	default=10_000,
	show_default=True,
	help="Above this many records, read with a Bulk API 2.0 query job instead of REST query pages.",
)
@pass_context
def salesforce_backfill(
	context,
	salesforce_object,
	since,
	until,
	date_field,
	conditions,
	limit,
	dry_run,
	resume,
	retry_failed,
	bulk_threshold,
):
	"""Load Salesforce history through the same processing as Outbound Messages.

	Each record becomes a Sync Log row; a run that stops (Ctrl-C, a spent API budget, a lost
	connection, a killed process) goes on from its checkpoint with --resume.
	"""
	import frappe

	from salesforce_connector.core.errors import ConnectorError
	from salesforce_connector.services.backfill import (
		BackfillRequest,
		resume_backfill,
		retry_failures,
		start_backfill,
	)

	_check_backfill_options(
		salesforce_object, resume, retry_failed, dry_run, since, until, date_field, conditions, limit
	)
	site = get_site(context)
	frappe.init(site=site)
	frappe.connect()
	try:
		if retry_failed:
			result = retry_failures(retry_failed, TerminalProgress(f"Retry {retry_failed}"))
		elif resume:
			result = resume_backfill(salesforce_object, TerminalProgress(salesforce_object))
		else:
			request = BackfillRequest(
				salesforce_object,
				date_field=date_field or ("CreatedDate" if since or until else None),
				since=since,
				until=until,
				conditions=tuple(conditions),
				limit=limit,
				dry_run=dry_run,
				bulk_threshold=bulk_threshold,
			)
			result = start_backfill(request, TerminalProgress(salesforce_object))
	except ConnectorError as error:
		raise click.ClickException(error.message) from None
	finally:
		frappe.destroy()

	for line in _backfill_report(result, site, salesforce_object):
		click.echo(line)
	if result.status != "Completed":
		sys.exit(1)


def _check_backfill_options(salesforce_object, resume, retry_failed, dry_run, *selection) -> None:
	if retry_failed and (salesforce_object or resume or dry_run or any(selection)):
		raise click.UsageError("--retry-failed takes a run name and nothing else.")
	if not retry_failed and not salesforce_object:
		raise click.UsageError("Say which records to read with --object.")
	if resume and (dry_run or any(selection)):
		raise click.UsageError("--resume goes on with the run's own selection; give only --object.")


def _backfill_report(result, site: str, salesforce_object: str | None) -> list[str]:
	from salesforce_connector.core.backfill import summary_table

	title = "Dry run" if result.dry_run else f"Backfill {result.run}"
	lines = [
		f"{title}: {result.status.lower()}" + (f". {result.stop_reason}" if result.stop_reason else ""),
		"",
	]
	lines += summary_table(result.counts)
	if result.failures:
		lines += ["", *_failure_lines(result)]
	if result.dry_run:
		lines += ["", "Nothing was written."]
	elif result.counts.failed and result.run:
		lines += [
			"",
			f"Retry the failures:  bench --site {site} salesforce-backfill --retry-failed {result.run}",
		]
	if result.status == "Stopped" and salesforce_object:
		lines += [
			"",
			f"Go on from here:  bench --site {site} salesforce-backfill --object {salesforce_object} --resume",
		]
	return lines


def _failure_lines(result) -> list[str]:
	"""A record's first line of error in full; a dry run's rows were rolled back, so none is named."""
	shown = len(result.failures)
	if result.dry_run:
		heading = f"Records that would fail (first {shown}):"
	else:
		heading = f"Failed records (first {shown}; each has its Sync Log row):"
	lines = [heading]
	for failure in result.failures:
		reason = ((failure["error"] or "").strip().splitlines() or [""])[0]
		row = "" if result.dry_run else f"  [{failure['sync_log']}]"
		lines.append(f"  {failure['salesforce_id']}  {failure['status']}  {reason}{row}")
	return lines


commands.append(salesforce_backfill)


@click.command("salesforce-audit")
@click.option(
	"--fix", is_flag=True, help="Apply the safe fixes: canonical state, E.164 phone, upper-cased GSTIN."
)
@click.option("--customer", "customers", multiple=True, help="Audit only this customer (repeat for more).")
@click.option(
	"--salesforce",
	is_flag=True,
	help="Also read the org's Accounts and open Leads over the API and audit them (never fixed from here).",
)
@click.option("--tsv", is_flag=True, help="Print tab-separated values instead of an aligned table.")
@pass_context
def salesforce_audit(context, fix: bool, customers: tuple[str, ...], salesforce: bool, tsv: bool):
	"""List invalid GSTINs, states and phones not written canonically, and likely duplicate customers.

	Covers Customers with their Addresses and Contacts, and with --salesforce the org's Accounts and
	open Leads. With --fix, the safe fixes are written in ERPNext (each noted on the document's
	timeline) and what remains is listed; a second --fix changes nothing.
	"""
	import frappe

	from salesforce_connector.core.errors import ConnectorError
	from salesforce_connector.services.audit import report_rows, run_audit

	site = get_site(context)
	frappe.init(site=site)
	frappe.connect()
	try:
		result = run_audit(fix=fix, customers=list(customers) or None, salesforce=salesforce)
		frappe.db.commit()  # nosemgrep: a command's fixes are its whole work
		for change in result.changed:
			click.echo(
				f"Fixed {change.doctype} {change.name} {change.field}: {change.old!r} -> {change.new!r}"
			)
		if fix:
			click.echo(f"{len(result.changed)} value(s) changed.")
		click.echo(_audit_table(report_rows(result), tsv))
	except ConnectorError as error:
		# the ERPNext fixes are written before Salesforce is read, and stay written
		frappe.db.commit()  # nosemgrep: see above
		raise click.ClickException(f"Could not audit Salesforce: {error.message}") from None
	finally:
		frappe.destroy()


def _audit_table(rows: list[dict], tsv: bool) -> str:
	if not rows:
		return "Nothing to report."
	columns = [
		"problem",
		"reference_doctype",
		"reference_name",
		"salesforce_record",
		"field",
		"value",
		"safe_fix",
		"group",
		"proposal",
	]
	lines = ["\t".join(column.replace("_", " ").title() for column in columns)]
	lines += ["\t".join(str(row[column] or "") for column in columns) for row in rows]
	return "\n".join(lines) if tsv else _aligned(lines)


commands.append(salesforce_audit)


@click.command("salesforce-reconcile")
@click.option(
	"--from", "from_date", required=True, metavar="DATE", help="First close date of won Opportunities."
)
@click.option("--to", "to_date", required=True, metavar="DATE", help="Last close date, included.")
@click.option("--customer", help="Only this Customer's Opportunities and documents.")
@click.option("--resync", is_flag=True, help="Resync every gap found, then check again.")
@pass_context
def salesforce_reconcile(context, from_date, to_date, customer, resync):
	"""Compare a period's won Opportunities with their Sales Orders and list every gap.

	Gaps: no Sales Order, an amount or currency that differs, a fulfilment status Salesforce has
	not been told, an open document whose Opportunity was deleted. ERPNext documents are those
	dated in the period.
	"""
	import frappe

	from salesforce_connector.core.errors import ConnectorError
	from salesforce_connector.services.reconciliation import Period, find_gaps, resync_all

	frappe.init(site=get_site(context))
	frappe.connect()
	try:
		period = Period(from_date, to_date, customer)
		gaps = list(find_gaps(period))
		for line in _gap_table(gaps):
			click.echo(line)
		if resync and gaps:
			click.echo("")
			for gap, outcome in resync_all(gaps):
				click.echo(f"{gap.issue}\t{gap.opportunity_id}\t{outcome}")
			remaining = list(find_gaps(period))
			click.echo(f"\nAfter resync: {len(remaining)} gap(s) remain.")
			for line in _gap_table(remaining)[1:]:
				click.echo(line)
	except ConnectorError as error:
		raise click.ClickException(error.message) from None
	finally:
		frappe.destroy()


def _gap_table(gaps) -> list[str]:
	columns = ("issue", "opportunity_id", "opportunity_name", "document", "salesforce", "erpnext", "detail")
	lines = [f"{len(gaps)} gap(s)", "\t".join(columns)]
	for gap in gaps:
		salesforce = " ".join(
			str(part) for part in (gap.salesforce_amount, gap.salesforce_currency) if part is not None
		)
		erpnext = " ".join(
			str(part) for part in (gap.erpnext_amount, gap.erpnext_currency) if part is not None
		)
		document = f"{gap.document_type} {gap.document}" if gap.document else ""
		values = (
			gap.issue,
			gap.opportunity_id,
			gap.opportunity_name or "",
			document,
			salesforce,
			erpnext,
			gap.detail,
		)
		lines.append("\t".join(values))
	return lines


commands.append(salesforce_reconcile)
