"""The app installs the same way through pip, setup.py and bench."""

from pathlib import Path

import tomllib
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def requirement_set(lines):
	return {str(Requirement(line)) for line in lines}


def test_requirements_txt_agrees_with_pyproject():
	pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
	listed = [
		line.strip()
		for line in (ROOT / "requirements.txt").read_text().splitlines()
		if line.strip() and not line.startswith("#")
	]

	assert requirement_set(listed) == requirement_set(pyproject["project"]["dependencies"])


def test_app_declares_erpnext_as_required():
	hooks = (ROOT / "salesforce_connector" / "hooks.py").read_text()

	assert 'required_apps = ["frappe/erpnext"]' in hooks


def test_module_folder_holds_the_doctypes():
	modules = (ROOT / "salesforce_connector" / "modules.txt").read_text().splitlines()
	doctype_folder = ROOT / "salesforce_connector" / "salesforce_connector" / "doctype"

	assert modules == ["Salesforce Connector"]
	for doctype in (
		"salesforce_settings",
		"salesforce_field_mapping",
		"salesforce_field_mapping_row",
		"salesforce_sync_log",
	):
		assert (doctype_folder / doctype / f"{doctype}.json").is_file(), doctype


def test_core_never_imports_frappe():
	offenders = [
		str(path.relative_to(ROOT))
		for folder in ("core", "emulator")
		for path in (ROOT / "salesforce_connector" / folder).rglob("*.py")
		if "import frappe" in path.read_text() or "from frappe" in path.read_text()
	]

	assert offenders == []
