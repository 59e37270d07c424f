frappe.ui.form.on("Salesforce Field Mapping", {
	refresh(frm) {
		frm.call("salesforce_check_note").then((r) => {
			frm.get_field("salesforce_check_note").$wrapper.html(
				`<p class="text-muted small">${frappe.utils.escape_html(r.message || "")}</p>`
			);
		});

		frm.add_custom_button(__("Preview a Record"), () => show_preview_dialog());
	},
});

function show_preview_dialog() {
	const dialog = new frappe.ui.Dialog({
		title: __("Preview: what processing would do"),
		size: "extra-large",
		fields: [
			{
				fieldname: "salesforce_id",
				fieldtype: "Data",
				label: __("Salesforce Record Id"),
				description: __("A Lead, Account, Contact or Opportunity Id; the record is read from Salesforce."),
			},
			{ fieldtype: "Column Break" },
			{
				fieldname: "sync_log",
				fieldtype: "Link",
				options: "Salesforce Sync Log",
				label: __("Or a Sync Log Row"),
			},
			{ fieldtype: "Section Break" },
			{ fieldname: "result", fieldtype: "HTML" },
		],
		primary_action_label: __("Preview"),
		primary_action(values) {
			const call = values.sync_log
				? { method: "salesforce_connector.services.preview.preview_sync_log", args: { log_name: values.sync_log } }
				: {
						method: "salesforce_connector.services.preview.preview_salesforce_record",
						args: { salesforce_id: values.salesforce_id },
				  };
			if (!values.sync_log && !values.salesforce_id) {
				frappe.msgprint(__("Enter a Salesforce record Id or pick a Sync Log row."));
				return;
			}
			frappe.call({ ...call, freeze: true }).then((r) => {
				dialog.get_field("result").$wrapper.html(render_preview(r.message || {}));
			});
		},
	});
	dialog.show();
}

function render_preview(preview) {
	const esc = (value) => frappe.utils.escape_html(value === null || value === undefined ? "" : String(value));
	const parts = [`<p class="text-muted">${__("Nothing has been written. This is what processing would do now.")}</p>`];

	if (preview.error) {
		parts.push(`<div class="alert alert-danger">${esc(preview.error)}</div>`);
	}
	(preview.notes || []).forEach((note) => parts.push(`<p>${esc(note)}</p>`));

	(preview.documents || []).forEach((doc) => {
		parts.push(`<h5>${esc(doc.action)}: ${esc(doc.doctype)} ${esc(doc.name || "")}</h5>`);
		parts.push(values_table(doc.values || {}, esc));
		if ((doc.skipped || []).length) {
			parts.push(`<p class="text-muted">${__("Kept as they are in ERPNext")}</p>`);
			parts.push(skipped_table(doc.skipped, esc));
		}
		(doc.lines || []).forEach((line, index) => {
			parts.push(`<p class="text-muted">${__("Line {0}", [index + 1])}</p>`);
			if (line.error) parts.push(`<div class="alert alert-danger">${esc(line.error)}</div>`);
			parts.push(values_table(line.values || {}, esc));
			if ((line.skipped || []).length) parts.push(skipped_table(line.skipped, esc));
		});
	});
	return parts.join("");
}

function values_table(values, esc) {
	const rows = Object.keys(values).map((field) => `<tr><td>${esc(field)}</td><td>${esc(values[field])}</td></tr>`);
	if (!rows.length) return `<p class="text-muted small">${__("No field changes.")}</p>`;
	return `<table class="table table-bordered table-sm"><thead><tr><th>${__("ERPNext Field")}</th><th>${__(
		"Value"
	)}</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function skipped_table(skipped, esc) {
	const rows = skipped.map(
		(skip) =>
			`<tr><td>${esc(skip.field)}</td><td>${esc(skip.salesforce_field)}</td><td>${esc(skip.value)}</td><td>${esc(
				skip.reason
			)}</td></tr>`
	);
	return `<table class="table table-bordered table-sm"><thead><tr><th>${__("ERPNext Field")}</th><th>${__(
		"Salesforce Field"
	)}</th><th>${__("Salesforce Value")}</th><th>${__("Why Kept")}</th></tr></thead><tbody>${rows.join(
		""
	)}</tbody></table>`;
}
