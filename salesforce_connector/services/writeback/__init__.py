"""ERPNext facts written back to the Salesforce Opportunity and Account they belong to.

A document event only records, on an outbox row of the Sync Log, that a Salesforce record needs
refreshing (`outbox`); a job later reads what ERPNext knows about the record (`facts`) and writes
it with sObject Collections (`flush`). Nothing in a submit waits for Salesforce.
"""
