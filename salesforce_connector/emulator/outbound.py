"""Outbound Messages: workflow rules that POST a SOAP `notifications` envelope to an endpoint.

Behaviour follows the Outbound Messaging guide
(https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_understanding.htm):
up to 100 notifications a message, field values read when the message is sent, null fields left
out, only a true `Ack` counts as delivered, retries back off exponentially up to two hours apart,
and a notification is dropped 24 hours after it was queued. Salesforce may deliver a notification
more than once and out of order; `duplicate`, `reorder` and `delay` make the emulator do so too.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from xml.sax.saxutils import escape, quoteattr

import defusedxml.ElementTree as SafeET
import requests

from salesforce_connector.emulator.values import to_text

logger = logging.getLogger(__name__)

OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
SOAP_ENVELOPE_NS = "http://schemas.xmlsoap.org/soap/envelope/"
ENTERPRISE_SOBJECT_NS = "urn:sobject.enterprise.soap.sforce.com"
MAX_NOTIFICATIONS = 100
FIRST_RETRY = timedelta(seconds=15)
LONGEST_RETRY = timedelta(hours=2)
GIVE_UP_AFTER = timedelta(hours=24)
API_VERSION = "59.0"


@dataclass
class OutboundRule:
	"""A workflow rule with one Outbound Message action."""

	name: str
	sobject: str
	endpoint_url: str
	fields: list[str]
	criteria: Callable[[dict], bool] | dict | None = None
	action_id: str = ""
	send_session_id: bool = False
	on_create_only: bool = False
	active: bool = True

	def applies_to(self, record: dict, created: bool) -> bool:
		# TODO: the "edited to subsequently meet criteria" evaluation needs the record's previous values,
		# which change listeners do not get yet; rules fire on create and on every edit that matches
		if not self.active or (self.on_create_only and not created):
			return False
		if self.criteria is None:
			return True
		if callable(self.criteria):
			return bool(self.criteria(dict(record)))
		return all(record.get(name) == wanted for name, wanted in self.criteria.items())


@dataclass
class Notification:
	id: str
	rule: OutboundRule
	record_id: str
	queued_at: datetime
	next_attempt_at: datetime
	attempts: int = 0
	state: str = "pending"
	last_error: str | None = None


@dataclass
class Delivery:
	"""One POST: which notifications it carried and what came back."""

	rule: str
	endpoint_url: str
	notification_ids: list[str]
	status: int | None
	acknowledged: bool
	error: str | None = None
	envelope: bytes = b""


@dataclass
class OutboundSender:
	org: object
	session: requests.Session = field(default_factory=requests.Session)
	timeout: float = 10.0
	duplicate: bool = False
	reorder: bool = False
	delay: timedelta = timedelta(0)

	def __post_init__(self):
		self.rules: list[OutboundRule] = []
		self.notifications: list[Notification] = []
		self.deliveries: list[Delivery] = []
		self._lock = threading.RLock()
		self._background: threading.Thread | None = None
		self._stop = threading.Event()
		self.org.on_change(self._record_changed)

	# rules

	def add_rule(
		self,
		sobject: str,
		endpoint_url: str,
		fields: list[str],
		*,
		criteria: Callable[[dict], bool] | dict | None = None,
		name: str | None = None,
		send_session_id: bool = False,
		on_create_only: bool = False,
	) -> OutboundRule:
		"""Send `fields` of `sobject` to `endpoint_url` whenever a create or update meets `criteria`
		(a callable on the record, or a dict of field values that must all be equal)."""
		sobject_type = self.org.sobject(sobject)
		canonical = []
		for each in fields:
			found = sobject_type.field(each)
			if found is None:
				raise ValueError(f"{sobject_type.name} has no field {each!r}")
			if found.name != "Id":
				canonical.append(found.name)
		rule = OutboundRule(
			name=name or f"{sobject_type.name} to {endpoint_url}",
			sobject=sobject_type.name,
			endpoint_url=endpoint_url,
			fields=sorted(set(canonical), key=str.lower),
			criteria=criteria,
			action_id=self.org.ids.new_id("04k"),
			send_session_id=send_session_id,
			on_create_only=on_create_only,
		)
		with self._lock:
			self.rules.append(rule)
		return rule

	def _record_changed(self, sobject: str, record_id: str, created: bool) -> None:
		record = self.org.find(sobject, record_id)
		if record is None:
			return
		now = self.org.clock.now()
		for rule in self.rules:
			if rule.sobject == sobject and rule.applies_to(record, created):
				notification = Notification(
					self.org.ids.new_id("04l"), rule, record_id, now, now + self.delay
				)
				with self._lock:
					self.notifications.append(notification)

	# queue

	def pending(self) -> list[Notification]:
		with self._lock:
			return [each for each in self.notifications if each.state == "pending"]

	def dropped(self) -> list[Notification]:
		with self._lock:
			return [each for each in self.notifications if each.state == "dropped"]

	def deliver_due(self) -> list[Delivery]:
		"""Send every notification whose time has come, grouped per rule, 100 a message."""
		now = self.org.clock.now()
		self._drop_expired(now)
		attempts = []
		for rule, batch in self._due_batches(now):
			attempts.extend(self._deliver(rule, batch, now))
		return attempts

	def _drop_expired(self, now: datetime) -> None:
		for notification in self.pending():
			if now - notification.queued_at >= GIVE_UP_AFTER:
				notification.state = "dropped"
				logger.warning("dropping outbound notification %s after 24 hours", notification.id)

	def _due_batches(self, now: datetime) -> list[tuple[OutboundRule, list[Notification]]]:
		due = [each for each in self.pending() if each.next_attempt_at <= now]
		if self.reorder:
			due.reverse()
		batches = []
		for rule in self.rules:
			mine = [each for each in due if each.rule is rule]
			batches += [
				(rule, mine[start : start + MAX_NOTIFICATIONS])
				for start in range(0, len(mine), MAX_NOTIFICATIONS)
			]
		if self.reorder:
			batches.reverse()
		return batches

	def _deliver(self, rule: OutboundRule, batch: list[Notification], now: datetime) -> list[Delivery]:
		envelope = self.envelope(rule, batch)
		copies = 2 if self.duplicate else 1
		results = [self._post(rule, batch, envelope) for _ in range(copies)]
		acknowledged = any(result.acknowledged for result in results)
		for notification in batch:
			notification.attempts += 1
			if acknowledged:
				notification.state = "delivered"
			else:
				notification.last_error = results[-1].error
				notification.next_attempt_at = now + retry_interval(notification.attempts)
		with self._lock:
			self.deliveries.extend(results)
		return results

	def _post(self, rule: OutboundRule, batch: list[Notification], envelope: bytes) -> Delivery:
		ids = [each.id for each in batch]
		headers = {
			"Content-Type": "text/xml; charset=utf-8",
			"SOAPAction": '""',
			"User-Agent": "Salesforce Outbound Notification",
		}
		try:
			response = self.session.post(
				rule.endpoint_url, data=envelope, headers=headers, timeout=self.timeout
			)
		except requests.RequestException as error:
			return Delivery(
				rule.name, rule.endpoint_url, ids, None, False, f"{type(error).__name__}: {error}", envelope
			)

		acknowledged = response.status_code == 200 and is_ack(response.content)
		error = None if acknowledged else f"HTTP {response.status_code}: {failure_reason(response.content)}"
		return Delivery(
			rule.name, rule.endpoint_url, ids, response.status_code, acknowledged, error, envelope
		)

	# the envelope

	def envelope(self, rule: OutboundRule, batch: list[Notification]) -> bytes:
		base = self.org.base_url.rstrip("/")
		org15 = self.org.org_id[:15]
		session = self._session_element(rule)
		notifications = "".join(self._notification(rule, each) for each in batch)
		text = (
			'<?xml version="1.0" encoding="UTF-8"?>\n'
			'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
			'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
			" <soapenv:Body>\n"
			f'  <notifications xmlns="{OUTBOUND_NS}">\n'
			f"   <OrganizationId>{self.org.org_id}</OrganizationId>\n"
			f"   <ActionId>{rule.action_id}</ActionId>\n"
			f"   {session}\n"
			f"   <EnterpriseUrl>{escape(base)}/services/Soap/c/{API_VERSION}/{org15}</EnterpriseUrl>\n"
			f"   <PartnerUrl>{escape(base)}/services/Soap/u/{API_VERSION}/{org15}</PartnerUrl>\n"
			f"{notifications}"
			"  </notifications>\n"
			" </soapenv:Body>\n"
			"</soapenv:Envelope>\n"
		)
		return text.encode("utf-8")

	def _session_element(self, rule: OutboundRule) -> str:
		if not rule.send_session_id:
			return '<SessionId xsi:nil="true"/>'
		session = self.org.issue_session(self.org.integration_user)
		return f"<SessionId>{escape(session.token)}</SessionId>"

	def _notification(self, rule: OutboundRule, notification: Notification) -> str:
		# values are read now, when the message goes out, not when the rule fired
		record = self.org.find(rule.sobject, notification.record_id) or self._binned(rule, notification)
		lines = [f"     <sf:Id>{notification.record_id}</sf:Id>\n"]
		for name in rule.fields:
			value = record.get(name)
			if value is None:
				# Outbound Messages leave null fields out instead of sending xsi:nil
				continue
			lines.append(f"     <sf:{name}>{escape(to_text(value))}</sf:{name}>\n")
		return (
			"   <Notification>\n"
			f"    <Id>{notification.id}</Id>\n"
			f'    <sObject xsi:type={quoteattr("sf:" + rule.sobject)} xmlns:sf="{ENTERPRISE_SOBJECT_NS}">\n'
			f"{''.join(lines)}"
			"    </sObject>\n"
			"   </Notification>\n"
		)

	def _binned(self, rule: OutboundRule, notification: Notification) -> dict:
		deleted = [row for row in self.org.deleted_rows(rule.sobject) if row["Id"] == notification.record_id]
		return deleted[0] if deleted else {}

	# background delivery for the command-line demo

	def start_background(self, interval: float = 1.0) -> None:
		if self._background is not None:
			return
		self._stop.clear()
		self._background = threading.Thread(
			target=self._loop, args=(interval,), name="outbound-sender", daemon=True
		)
		self._background.start()

	def stop_background(self) -> None:
		self._stop.set()
		if self._background is not None:
			self._background.join(timeout=5)
			self._background = None

	def _loop(self, interval: float) -> None:
		while not self._stop.wait(interval):
			try:
				for delivery in self.deliver_due():
					logger.info(
						"outbound message to %s: %s notifications, %s",
						delivery.endpoint_url,
						len(delivery.notification_ids),
						"acknowledged" if delivery.acknowledged else delivery.error,
					)
			except Exception:
				logger.exception("outbound delivery failed")


def retry_interval(attempts: int) -> timedelta:
	"""15 s, 30 s, 1 min, ... doubling after each failed attempt, never more than two hours."""
	return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


def failure_reason(content: bytes) -> str:
	"""A SOAP fault's faultstring, whole, as Salesforce's Outbound Messages page shows it; else the start."""
	try:
		root = SafeET.fromstring(content.lstrip(b"\xef\xbb\xbf").strip())
	except Exception:
		root = None
	found = root.find(f".//{{{SOAP_ENVELOPE_NS}}}Fault/faultstring") if root is not None else None
	if found is not None and (found.text or "").strip():
		return found.text.strip()
	return content.decode("utf-8", "replace")[:200]


def is_ack(content: bytes) -> bool:
	"""True only for a SOAP body holding notificationsResponse/Ack = true."""
	try:
		root = SafeET.fromstring(content.lstrip(b"\xef\xbb\xbf").strip())
	except Exception:
		return False
	ack = root.find(f".//{{{OUTBOUND_NS}}}notificationsResponse/{{{OUTBOUND_NS}}}Ack")
	return ack is not None and (ack.text or "").strip().lower() in ("true", "1")
