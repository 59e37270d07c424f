"""The data audit on a real site: planted duplicates and bad values are found, and --fix is idempotent.

The bench command is run as bench runs it, in a process of its own, on the audited customers only, so
that records other tests left on the site are neither reported nor changed.
"""

import secrets
import subprocess
import sys

import frappe
from frappe.tests.utils import FrappeTestCase

from salesforce_connector.core.transforms import build_gstin
from salesforce_connector.services.audit import report_rows, run_audit
from salesforce_connector.tests.test_sales_flow import SalesforceOrgTestCase, random_pan


def make_customer(name: str, **values) -> str:
	customer = frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": name,
			"customer_group": frappe.db.get_value("Customer Group", {"is_group": 1}),
			"territory": frappe.db.get_value("Territory", {"is_group": 1}),
			**values,
		}
	).insert()
	return customer.name


def make_address(customer: str, state: str, **values) -> str:
	address = frappe.get_doc(
		{
			"doctype": "Address",
			"address_title": customer,
			"address_line1": "1 Test Road",
			"city": "Pune",
			"state": state,
			"country": "India",
			"links": [{"link_doctype": "Customer", "link_name": customer}],
			**values,
		}
	).insert()
	return address.name


def make_contact(customer: str, phone: str | None = None, email: str | None = None) -> str:
	contact = frappe.get_doc(
		{
			"doctype": "Contact",
			"first_name": f"Contact of {customer}",
			"links": [{"link_doctype": "Customer", "link_name": customer}],
		}
	)
	if phone:
		contact.add_phone(phone, is_primary_mobile_no=1)
	if email:
		contact.add_email(email, is_primary=1)
	contact.insert()
	return contact.name


class TestDataAudit(FrappeTestCase):
	def setUp(self):
		token = secrets.token_hex(3).upper()
		pan = random_pan()
		self.gstin = build_gstin("27", pan)
		self.second_gstin = build_gstin("27", pan, entity="2")
		mobile = f"98{secrets.randbelow(10**8):08d}"
		self.mobile_e164 = f"+91{mobile}"
		self.email = f"buyer.{token.lower()}@example.com"

		self.same_gstin = [
			make_customer(f"Audit Shared GSTIN A {token}", tax_id=self.gstin),
			make_customer(f"Audit Shared GSTIN B {token}", tax_id=self.gstin.lower()),
		]
		self.same_pan = make_customer(f"Audit Same PAN {token}", tax_id=self.second_gstin)
		self.same_phone = [make_customer(f"Audit Phone A {token}"), make_customer(f"Audit Phone B {token}")]
		self.same_email = [make_customer(f"Audit Mail A {token}"), make_customer(f"Audit Mail B {token}")]
		self.bad_gstin = make_customer(f"Audit Bad GSTIN {token}", tax_id=self.gstin[:14] + "0")

		self.short_state = make_address(self.same_gstin[0], "MH")
		self.unknown_state = make_address(self.same_gstin[1], "Bombay Presidency")
		self.typed_phone = make_contact(self.same_phone[0], phone=f"0{mobile[:5]} {mobile[5:]}")
		make_contact(self.same_phone[1], phone=self.mobile_e164)
		make_contact(self.same_email[0], email=self.email)
		make_contact(self.same_email[1], email=self.email.upper().replace("@EXAMPLE.COM", "@example.com"))

		self.customers = [
			*self.same_gstin,
			self.same_pan,
			*self.same_phone,
			*self.same_email,
			self.bad_gstin,
		]
		frappe.db.commit()  # nosemgrep: the command runs in a process of its own

	def audit_command(self, *arguments: str) -> str:
		scope = [part for customer in self.customers for part in ("--customer", customer)]
		bench = [sys.executable, "-m", "frappe.utils.bench_helper", "frappe", "--site", frappe.local.site]
		completed = subprocess.run(
			[*bench, "salesforce-audit", "--tsv", *arguments, *scope],
			cwd=frappe.local.sites_path,
			capture_output=True,
			text=True,
			timeout=300,
			check=True,
		)
		frappe.db.rollback()  # nosemgrep: a fresh snapshot sees what the command committed
		return completed.stdout

	def problems(self) -> set[tuple[str, str, str | None]]:
		rows = report_rows(run_audit(customers=self.customers))
		return {(row["problem"], row["reference_name"], row["safe_fix"]) for row in rows}

	def groups(self) -> dict[str, set[str]]:
		return {
			group.key: {name for _, name in group.parties}
			for group in run_audit(customers=self.customers).duplicates
		}

	def test_planted_duplicates_are_grouped(self):
		groups = self.groups()

		self.assertEqual(groups[f"GSTIN {self.gstin}"], set(self.same_gstin))
		pan_group = next(
			members for key, members in groups.items() if key.startswith(f"PAN {self.gstin[2:12]}")
		)
		self.assertEqual(pan_group, {*self.same_gstin, self.same_pan})
		self.assertEqual(groups[f"phone {self.mobile_e164}"], set(self.same_phone))
		self.assertEqual(groups[f"e-mail {self.email}"], set(self.same_email))

	def test_bad_values_are_found_with_their_proposed_fix(self):
		problems = self.problems()

		self.assertIn(("State not canonical", self.short_state, "Maharashtra"), problems)
		self.assertIn(("Unknown state", self.unknown_state, None), problems)
		self.assertIn(("Phone not in E.164", self.typed_phone, self.mobile_e164), problems)
		self.assertIn(("GSTIN not upper case", self.same_gstin[1], self.gstin), problems)
		self.assertIn(("Invalid GSTIN", self.bad_gstin, None), problems)

	def test_fix_applies_only_safe_fixes_notes_them_and_a_second_run_changes_nothing(self):
		first = self.audit_command("--fix")

		self.assertIn("Fixed Address", first)
		self.assertEqual(frappe.db.get_value("Address", self.short_state, "state"), "Maharashtra")
		self.assertEqual(frappe.db.get_value("Address", self.unknown_state, "state"), "Bombay Presidency")
		self.assertEqual(frappe.db.get_value("Contact", self.typed_phone, "mobile_no"), self.mobile_e164)
		self.assertEqual(frappe.db.get_value("Customer", self.same_gstin[1], "tax_id"), self.gstin)
		self.assertEqual(frappe.db.get_value("Customer", self.bad_gstin, "tax_id"), self.gstin[:14] + "0")
		self.assertTrue(
			frappe.db.exists(
				"Comment",
				{
					"reference_doctype": "Address",
					"reference_name": self.short_state,
					"content": ["like", "%'MH'%"],
				},
			)
		)

		before_second = {
			doctype: frappe.get_all(doctype, filters={"name": ["in", names]}, fields=["name", "modified"])
			for doctype, names in (
				("Customer", self.customers),
				("Address", [self.short_state, self.unknown_state]),
			)
		}
		second = self.audit_command("--fix")

		self.assertIn("0 value(s) changed.", second)
		self.assertNotIn("Fixed ", second)
		for doctype, rows in before_second.items():
			self.assertEqual(
				frappe.get_all(
					doctype, filters={"name": ["in", [row.name for row in rows]]}, fields=["name", "modified"]
				),
				rows,
			)
		remaining = {problem for problem, _, fix in self.problems() if fix}
		self.assertEqual(remaining, set())

	def test_command_without_fix_lists_and_changes_nothing(self):
		output = self.audit_command()

		self.assertIn("State not canonical", output)
		self.assertIn("Likely duplicate", output)
		self.assertNotIn("value(s) changed", output)
		self.assertEqual(frappe.db.get_value("Address", self.short_state, "state"), "MH")

	def test_report_lists_findings_and_groups(self):
		from salesforce_connector.salesforce_connector.report.salesforce_data_audit.salesforce_data_audit import (
			execute,
		)

		columns, rows = execute({"problem": "State not canonical"})

		self.assertIn("proposal", [column["fieldname"] for column in columns])
		self.assertIn(self.short_state, [row["reference_name"] for row in rows])
		self.assertEqual({row["problem"] for row in rows}, {"State not canonical"})


class TestSalesforceDataAudit(SalesforceOrgTestCase):
	"""With --salesforce the org's Accounts and open Leads are audited too, and left as they are."""

	def setUp(self):
		super().setUp()
		pan = random_pan()
		self.gstin = build_gstin("27", pan)
		mobile = f"98{secrets.randbelow(10**8):08d}"
		self.mobile_e164 = f"+91{mobile}"

		self.short_state = self.make_account(BillingState="MH", GSTIN__c=self.gstin, Phone=self.mobile_e164)
		self.lower_gstin = self.make_account(BillingState="Maharashtra", GSTIN__c=self.gstin.lower())
		valid = build_gstin("29", pan)
		mistyped = valid[:14] + ("1" if valid[14] == "0" else "0")
		self.bad_gstin = self.make_account(BillingState="Karnataka", GSTIN__c=mistyped)
		self.open_lead = self.org.create(
			"Lead",
			{
				"LastName": "Iyer",
				"Company": f"Iyer Pumps {self.token}",
				"State": "Tamilnadu",
				"Phone": f"0{mobile}",
			},
		)
		converted = self.org.create(
			"Lead", {"LastName": "Rao", "Company": f"Rao Valves {self.token}", "State": "Bombay Presidency"}
		)
		self.org.convert_lead(converted, create_opportunity=False)
		self.converted_lead = converted
		frappe.db.commit()  # nosemgrep: the command runs in a process of its own

	def salesforce_rows(self, **options) -> list[dict]:
		# no Customer is named, so only Salesforce's records are in the result
		rows = report_rows(run_audit(customers=[], salesforce=True, **options))
		return [row for row in rows if row["salesforce_record"]]

	def test_accounts_and_open_leads_are_audited_with_proposals_and_no_fix(self):
		rows = self.salesforce_rows()
		findings = {(row["problem"], row["salesforce_record"], row["field"]): row for row in rows}

		state = findings[("State not canonical", f"Account {self.short_state}", "BillingState")]
		self.assertEqual(state["proposal"], "Write it as Maharashtra")
		self.assertIn(("GSTIN not upper case", f"Account {self.lower_gstin}", "GSTIN__c"), findings)
		self.assertIn(("Invalid GSTIN", f"Account {self.bad_gstin}", "GSTIN__c"), findings)
		self.assertIn(("State not canonical", f"Lead {self.open_lead}", "State"), findings)
		self.assertIn(("Phone not in E.164", f"Lead {self.open_lead}", "Phone"), findings)
		self.assertTrue(all(row["safe_fix"] is None and row["reference_doctype"] is None for row in rows))
		self.assertNotIn(self.converted_lead, " ".join(row["salesforce_record"] for row in rows))

	def test_duplicates_in_salesforce_are_grouped_with_a_salesforce_proposal(self):
		groups = {group.key: group for group in run_audit(customers=[], salesforce=True).duplicates}

		self.assertEqual(
			{name for _, name in groups[f"GSTIN {self.gstin}"].parties}, {self.short_state, self.lower_gstin}
		)
		by_phone = groups[f"phone {self.mobile_e164}"]
		self.assertEqual({name for _, name in by_phone.parties}, {self.short_state, self.open_lead})
		self.assertIn("merge", by_phone.proposal)
		self.assertIn("in Salesforce", by_phone.proposal)

	def test_fix_leaves_salesforce_records_as_they_are(self):
		before = self.org.get("Account", self.short_state)

		result = run_audit(fix=True, customers=[], salesforce=True)

		self.assertEqual(result.changed, [])
		after = self.org.get("Account", self.short_state)
		self.assertEqual((after["BillingState"], after["SystemModstamp"]), ("MH", before["SystemModstamp"]))

	def test_report_reads_salesforce_only_when_asked(self):
		from salesforce_connector.salesforce_connector.report.salesforce_data_audit.salesforce_data_audit import (
			execute,
		)

		_, with_salesforce = execute({"include_salesforce": 1, "problem": "Invalid GSTIN"})
		_, without = execute({"problem": "Invalid GSTIN"})

		self.assertIn(f"Account {self.bad_gstin}", [row["salesforce_record"] for row in with_salesforce])
		self.assertFalse(any(row["salesforce_record"] for row in without))

	def test_an_unreachable_org_is_a_clear_error_of_the_command(self):
		settings = frappe.get_doc("Salesforce Settings")
		settings.login_url = "http://127.0.0.1:9"
		settings.save(ignore_permissions=True)
		frappe.db.commit()  # nosemgrep: the command runs in a process of its own
		bench = [sys.executable, "-m", "frappe.utils.bench_helper", "frappe", "--site", frappe.local.site]

		completed = subprocess.run(
			[*bench, "salesforce-audit", "--salesforce", "--customer", "no such customer"],
			cwd=frappe.local.sites_path,
			capture_output=True,
			text=True,
			timeout=300,
		)

		self.assertNotEqual(completed.returncode, 0)
		self.assertIn("Could not audit Salesforce", completed.stderr + completed.stdout)
		self.assertNotIn("Traceback", completed.stderr)
