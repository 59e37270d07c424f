app_name = "salesforce_connector"
app_title = "Salesforce Connector"
app_publisher = "salesforce_connector developers"
app_description = "Closes the lead-to-cash loop between Salesforce and ERPNext"
app_email = "dev@salesforce-connector.local"
app_license = "MIT"
# "org/repo" form: frappe resolves a bare name by asking GitHub, which an offline bench cannot do.
required_apps = ["frappe/erpnext"]

after_install = "salesforce_connector.install.after_install"
after_migrate = "salesforce_connector.install.after_migrate"

doctype_js = {"Sales Order": "public/js/sales_order.js"}

scheduler_events = {
	# Safety net: a job lost between commit and Redis, or a retryable failure whose wait is over.
	"cron": {
		"*/5 * * * *": ["salesforce_connector.tasks.inbound.process_due_logs"],
		# The outbox: a flush lost on its way to Redis, and retries whose wait is over.
		# Polling: each tick checks whether the interval set in Salesforce Settings has passed.
		"* * * * *": [
			"salesforce_connector.tasks.outbound.flush_outbox",
			"salesforce_connector.tasks.polling.poll_if_due",
		],
	},
}

# ERPNext facts written back to Salesforce. Each event only marks the Opportunity and Account for
# refreshing; the flush job writes them. A Sales Order's on_change follows its submit, cancel and
# update after submit, and also every status ERPNext sets alone (close, hold, a delivery's per cent).
# Delivery Notes, Invoices and Payments are hooked themselves: the name of the latest delivery, the
# invoiced and paid amounts live on them, and some of their updates of the order skip its hooks.
_MARK_FOR_SALESFORCE = "salesforce_connector.services.writeback.outbox.on_document_event"
# a Sync Log row is history: it keeps its link text, and never stops a person deleting a document
ignore_links_on_delete = ["Salesforce Sync Log"]

doc_events = {
	"Sales Order": {"on_change": _MARK_FOR_SALESFORCE},
	"Delivery Note": {"on_submit": _MARK_FOR_SALESFORCE, "on_cancel": _MARK_FOR_SALESFORCE},
	"Sales Invoice": {"on_submit": _MARK_FOR_SALESFORCE, "on_cancel": _MARK_FOR_SALESFORCE},
	"Payment Entry": {"on_submit": _MARK_FOR_SALESFORCE, "on_cancel": _MARK_FOR_SALESFORCE},
	# Retry on an outbound row puts it back in the outbox
	"Salesforce Sync Log": {"on_change": "salesforce_connector.services.writeback.outbox.on_sync_log_change"},
}

# Sync Log rows are kept for 30 days unless an admin sets Log Settings otherwise.
default_log_clearing_doctypes = {"Salesforce Sync Log": 30}
