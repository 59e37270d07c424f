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

doctype_js = {}

scheduler_events = {
	# Safety net: a job lost between commit and Redis, or a retryable failure whose wait is over.
	"cron": {
		"*/5 * * * *": ["salesforce_connector.tasks.inbound.process_due_logs"],
	},
}

# Sync Log rows are kept for 30 days unless an admin sets Log Settings otherwise.
default_log_clearing_doctypes = {"Salesforce Sync Log": 30}
