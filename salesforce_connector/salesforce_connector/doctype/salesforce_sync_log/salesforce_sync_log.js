frappe.ui.form.on("Salesforce Sync Log", {
	refresh(frm) {
		// every field is written by the connector; Retry is the one thing a person does here
		frm.disable_save();
		if (["Failed", "Skipped", "Needs Review"].includes(frm.doc.status)) {
			frm.add_custom_button(__("Retry"), () => {
				frm.call({ method: "retry", doc: frm.doc }).then(() => frm.reload_doc());
			});
		}
	},
});
