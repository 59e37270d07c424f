"""Outbound Messages (placeholder until the sender is written)."""


class OutboundSender:
	def __init__(self, org):
		self.org = org
