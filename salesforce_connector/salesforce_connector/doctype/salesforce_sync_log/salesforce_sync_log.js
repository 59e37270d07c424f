frappe.ui.form.on("Salesforce Sync Log", {
	refresh(frm) {
		if (["Failed", "Skipped", "Needs Review"].includes(frm.doc.status)) {
			frm.add_custom_button(__("Retry"), () => {
				frm.call({ method: "retry", doc: frm.doc }).then(() => frm.reload_doc());
			});
		}
	},
});
