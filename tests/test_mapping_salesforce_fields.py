"""Finding mapping rows that name Salesforce fields the integration user cannot see.

The describe results below have the shape Salesforce's REST describe returns (name, relationshipName,
referenceTo per field); the site tests check the same rules against the local org over HTTP.
"""

import pytest

from salesforce_connector.core.errors import NotFoundError
from salesforce_connector.core.mapping import invisible_salesforce_fields


def field(name, relationship=None, reference_to=()):
	return {"name": name, "relationshipName": relationship, "referenceTo": list(reference_to)}


DESCRIBES = {
	"Opportunity": {
		"fields": [
			field("Id"),
			field("Name"),
			field("AccountId", "Account", ["Account"]),
			field("WhatId", "What", ["Account", "Lead"]),
		]
	},
	"Account": {
		"fields": [field("Id"), field("Name"), field("GSTIN__c"), field("OwnerId", "Owner", ["User"])]
	},
	"Lead": {"fields": [field("Id"), field("Company")]},
	"OpportunityLineItem": {"fields": [field("Quantity"), field("Product2Id", "Product2", ["Product2"])]},
}


def describe(salesforce_object):
	if salesforce_object not in DESCRIBES:
		raise NotFoundError(f"The requested resource does not exist: {salesforce_object}", status=404)
	return DESCRIBES[salesforce_object]


def test_visible_fields_pass():
	paths = ["Id", "Name", "Account.Name", "Account.GSTIN__c"]

	assert invisible_salesforce_fields("Opportunity", paths, describe) == {}


def test_names_are_compared_without_case_as_salesforce_does():
	assert invisible_salesforce_fields("Opportunity", ["name", "account.gstin__c"], describe) == {}


def test_a_field_missing_from_describe_is_reported_with_its_object():
	invisible = invisible_salesforce_fields("Account", ["Name", "Credit_Rating__c"], describe)

	assert invisible == {
		"Credit_Rating__c": "Account has no field Credit_Rating__c the integration user can see"
	}


def test_a_missing_field_on_a_parent_names_the_parent():
	invisible = invisible_salesforce_fields("Opportunity", ["Account.PAN__c"], describe)

	assert invisible["Account.PAN__c"] == "Account has no field PAN__c the integration user can see"


def test_a_relationship_the_object_does_not_have_is_reported():
	invisible = invisible_salesforce_fields("Opportunity", ["Partner.Name"], describe)

	assert invisible["Partner.Name"] == "Opportunity has no relationship Partner the integration user can see"


def test_a_path_may_end_on_a_relationship_for_the_whole_parent_record():
	assert invisible_salesforce_fields("OpportunityLineItem", ["Product2"], describe) == {}


def test_a_polymorphic_relationship_passes_when_any_target_shows_the_field():
	assert invisible_salesforce_fields("Opportunity", ["What.Company"], describe) == {}
	assert "What.Website" in invisible_salesforce_fields("Opportunity", ["What.Website"], describe)


def test_a_parent_object_the_user_cannot_see_hides_its_fields():
	invisible = invisible_salesforce_fields("Account", ["Owner.Email"], describe)

	assert invisible["Owner.Email"] == "User has no field Email the integration user can see"


def test_an_object_the_user_cannot_see_hides_every_field():
	invisible = invisible_salesforce_fields("Secret__c", ["Name"], describe)

	assert invisible == {"Name": "Secret__c has no field Name the integration user can see"}


def test_a_salesforce_outage_is_not_taken_for_an_invisible_field():
	from salesforce_connector.core.errors import RetryableSalesforceError

	def unavailable(salesforce_object):
		raise RetryableSalesforceError("Service Unavailable", status=503)

	with pytest.raises(RetryableSalesforceError):
		invisible_salesforce_fields("Account", ["Name"], unavailable)


def test_a_refused_login_is_not_taken_for_invisible_fields():
	from salesforce_connector.core.errors import AuthenticationError

	def refused(salesforce_object):
		raise AuthenticationError("The Connected App's consumer key is not known to this org", status=400)

	with pytest.raises(AuthenticationError):
		invisible_salesforce_fields("Account", ["Name"], refused)
