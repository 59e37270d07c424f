// The Salesforce side of a submitted Sales Order: whether its Opportunity and Account hold
// ERPNext's latest facts, and a way to the Sync Log rows that say why not.
frappe.ui.form.on("Sales Order", {
	refresh(frm) {
		if (frm.is_new() || frm.doc.docstatus === 0) {
			return;
		}
		frappe
			.call({
				method: "salesforce_connector.services.writeback.outbox.sales_order_sync_state",
				args: { sales_order: frm.doc.name },
			})
			.then(({ message: state }) => {
				if (!state || !state.salesforce_ids.length) {
					return;
				}
				frm.dashboard.add_indicator(__("Salesforce: {0}", [state.label]), state.colour);
				frm.add_custom_button(
					__("Salesforce Sync Log"),
					() => {
						frappe.route_options = {
							direction: "Outbound",
							salesforce_id: ["in", state.salesforce_ids],
						};
						frappe.set_route("List", "Salesforce Sync Log");
					},
					__("View")
				);
			});
	},
});
