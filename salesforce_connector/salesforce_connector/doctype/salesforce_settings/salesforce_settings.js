frappe.ui.form.on("Salesforce Settings", {
	refresh(frm) {
		show_endpoint_url(frm);
		show_gst_note(frm);

		frm.add_custom_button(__("Test Connection"), () => {
			// the test reads saved settings, so what is on screen is saved first
			const saved = frm.is_dirty() ? frm.save() : Promise.resolve();
			saved.then(() => test_connection(frm));
		});
	},
});

function show_endpoint_url(frm) {
	const base = `${frappe.urllib.get_base_url()}/api/method/salesforce_connector.api.outbound_message.receive`;
	const url = frm.doc.endpoint_token ? `${base}?token=YOUR-ENDPOINT-TOKEN` : base;
	const hint = frm.doc.endpoint_token
		? __("Paste this URL into the Outbound Message's Endpoint URL in Salesforce Setup, with your Endpoint Token in place of YOUR-ENDPOINT-TOKEN.")
		: __("Paste this URL into the Outbound Message's Endpoint URL in Salesforce Setup.");

	frm.get_field("endpoint_help").$wrapper.html(
		`<p class="text-muted small">${frappe.utils.escape_html(hint)}</p>
		<pre style="white-space: pre-wrap; word-break: break-all">${frappe.utils.escape_html(url)}</pre>`
	);
}

function show_gst_note(frm) {
	frm.call("gst_fields_note").then((r) => {
		frm.get_field("gst_field_note").$wrapper.html(
			`<p class="text-muted small">${frappe.utils.escape_html(r.message || "")}</p>`
		);
	});
}

function test_connection(frm) {
	frm.call({ method: "test_connection", doc: frm.doc, freeze: true }).then((r) => {
		const report = r.message || {};
		frappe.msgprint({
			title: report.ok ? __("Connected") : __("Connection Failed"),
			indicator: report.ok ? "green" : "red",
			message: frappe.utils.escape_html(report.message || ""),
		});
	});
}
