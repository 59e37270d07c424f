"""Bench commands of the connector."""

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
