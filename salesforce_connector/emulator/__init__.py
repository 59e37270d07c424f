"""A local, Frappe-free Salesforce org for tests and demos: REST, OAuth, SOAP login, Outbound Messages.

org = Org()
server = EmulatorServer(org).start()
...  # point simple-salesforce or SalesforceClient at server.url
server.stop()
"""

from salesforce_connector.emulator.clock import VirtualClock
from salesforce_connector.emulator.errors import ApiError
from salesforce_connector.emulator.org import ConnectedApp, Org, Stage, User
from salesforce_connector.emulator.server import EmulatorServer

__all__ = ["ApiError", "ConnectedApp", "EmulatorServer", "Org", "Stage", "User", "VirtualClock"]
