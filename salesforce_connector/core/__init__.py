"""Frappe-free heart of the connector.

Nothing under this package imports frappe: it is tested on a machine with pip alone.
"""
