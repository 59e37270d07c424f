frappe.ui.form.on("Salesforce Settings", {
	refresh(frm) {
		const url = `${frappe.urllib.get_base_url()}/api/method/salesforce_connector.api.outbound_message.receive`;
		frm.get_field("endpoint_help").$wrapper.html(
			`<p class="text-muted small">${__("Paste this URL into the Outbound Message's Endpoint URL in Salesforce Setup. If you set an Endpoint Token, add ?token=<token> to it.")}</p>
			<pre style="white-space: pre-wrap">${frappe.utils.escape_html(url)}</pre>`
		);

		frm.call("gst_fields_note").then((r) => {
			frm.get_field("gst_field_note").$wrapper.html(
				`<p class="text-muted small">${frappe.utils.escape_html(r.message || "")}</p>`
			);
		});

		frm.add_custom_button(__("Test Connection"), () => {
			frm.call({ method: "test_connection", doc: frm.doc, freeze: true }).then((r) => {
				const report = r.message || {};
				frappe.msgprint({
					title: report.ok ? __("Connected") : __("Connection Failed"),
					indicator: report.ok ? "green" : "red",
					message: frappe.utils.escape_html(report.message || ""),
				});
			});
		});
	},
});
