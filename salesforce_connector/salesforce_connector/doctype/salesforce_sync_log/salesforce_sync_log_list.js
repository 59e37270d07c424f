frappe.listview_settings["Salesforce Sync Log"] = {
	add_fields: ["status", "direction"],
	get_indicator(doc) {
		const colours = {
			Queued: "blue",
			Processing: "orange",
			Success: "green",
			Failed: "red",
			Skipped: "gray",
			"Needs Review": "yellow",
			Duplicate: "gray",
		};
		return [__(doc.status), colours[doc.status] || "gray", `status,=,${doc.status}`];
	},
	onload(listview) {
		listview.page.add_action_item(__("Retry"), () => {
			const names = listview.get_checked_items(true);
			frappe
				.call({
					method: "salesforce_connector.salesforce_connector.doctype.salesforce_sync_log.salesforce_sync_log.retry_logs",
					args: { names },
				})
				.then((r) => {
					frappe.show_alert(__("{0} rows queued again", [r.message || 0]));
					listview.refresh();
				});
		});
	},
};
