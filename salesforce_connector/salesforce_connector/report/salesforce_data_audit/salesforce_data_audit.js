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
		{
			fieldname: "include_salesforce",
			label: __("Salesforce Accounts and Leads"),
			fieldtype: "Check",
			description: __("Read the org's Accounts and open Leads over the API and audit them too"),
		},
	],
};
