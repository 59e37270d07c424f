frappe.query_reports["Salesforce Data Audit"] = {
	filters: [
		{
			fieldname: "problem",
			label: __("Problem"),
			fieldtype: "Select",
			options: [
				"",
				"Invalid GSTIN",
				"GSTIN not upper case",
				"Unknown state",
				"State not canonical",
				"Invalid phone",
				"Phone not in E.164",
				"Likely duplicate",
			].join("\n"),
		},
	],
};
