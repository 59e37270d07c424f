frappe.query_reports["Salesforce Reconciliation"] = {
	filters: [
		{
			fieldname: "from_date",
			label: __("Won From (Close Date)"),
			fieldtype: "Date",
			reqd: 1,
			default: frappe.datetime.add_months(frappe.datetime.get_today(), -1),
		},
		{
			fieldname: "to_date",
			label: __("Won To"),
			fieldtype: "Date",
			reqd: 1,
			default: frappe.datetime.get_today(),
		},
		{
			fieldname: "customer",
			label: __("Customer"),
			fieldtype: "Link",
			options: "Customer",
		},
	],

	formatter(value, row, column, data, default_formatter) {
		if (column.fieldname === "action" && data && data.issue) {
			const gap = encodeURIComponent(
				JSON.stringify({
					issue: data.issue,
					opportunity_id: data.opportunity_id,
					document_type: data.document_type || "",
					document: data.document || "",
				})
			);
			return `<button class="btn btn-xs btn-default" data-salesforce-resync="${gap}">${__("Resync")}</button>`;
		}
		return default_formatter(value, row, column, data);
	},

	onload(report) {
		$(report.page.wrapper).on("click", "[data-salesforce-resync]", (event) => {
			const button = $(event.currentTarget);
			const gap = JSON.parse(decodeURIComponent(button.attr("data-salesforce-resync")));
			button.prop("disabled", true);
			frappe
				.call({
					method: "salesforce_connector.salesforce_connector.report.salesforce_reconciliation.salesforce_reconciliation.resync_gap",
					args: gap,
					freeze: true,
					freeze_message: __("Resyncing {0}", [gap.opportunity_id]),
				})
				.then((answer) => {
					frappe.show_alert({ message: answer.message, indicator: "green" }, 10);
					report.refresh();
				})
				.always(() => button.prop("disabled", false));
		});
	},
};
