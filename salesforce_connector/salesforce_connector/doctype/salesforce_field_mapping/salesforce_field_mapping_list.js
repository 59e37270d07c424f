frappe.listview_settings["Salesforce Field Mapping"] = {
	onload(listview) {
		listview.page.add_inner_button(__("Download Mapping Sheet"), () => {
			window.open(
				"/api/method/salesforce_connector.services.mappings.download_mapping_sheet?file_type=Excel"
			);
		});

		listview.page.add_inner_button(__("Import Mapping Sheet"), () => {
			const dialog = new frappe.ui.Dialog({
				title: __("Import Mapping Sheet"),
				fields: [
					{
						fieldname: "sheet",
						fieldtype: "Attach",
						label: __("Mapping Sheet"),
						reqd: 1,
						description: __(
							"A sheet downloaded here and edited. Each mapping it names gets the sheet's rows; the import runs as a Data Import."
						),
					},
				],
				primary_action_label: __("Import"),
				primary_action(values) {
					frappe
						.call({
							method: "salesforce_connector.services.mappings.import_mapping_sheet",
							args: { file_url: values.sheet },
							freeze: true,
						})
						.then((r) => {
							dialog.hide();
							frappe.set_route("Form", "Data Import", r.message);
						});
				},
			});
			dialog.show();
		});
	},
};
