"""A SOQL subset: parse a query, check it against the schema, run it over the org's records.

Covers what the connector and simple-salesforce send: field lists with parent paths, child
subqueries, WHERE with comparisons, IN, LIKE, AND/OR/NOT and parentheses, ORDER BY with NULLS
FIRST/LAST, LIMIT, OFFSET and COUNT(). Grammar and error texts follow the SOQL reference
(https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select.htm).
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from salesforce_connector.emulator import ids
from salesforce_connector.emulator.errors import ApiError
from salesforce_connector.emulator.schema import NUMBER_TYPES, Field, SObjectType
from salesforce_connector.emulator.values import parse_datetime, to_json

KEYWORDS = {
	"select", "from", "where", "and", "or", "not", "in", "like", "order", "by", "asc", "desc",
	"nulls", "first", "last", "limit", "offset", "null", "true", "false", "count", "group", "having",
}  # fmt: skip

TOKEN_PATTERN = re.compile(
	r"""
	(?P<space>\s+)
	|(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2}))
	|(?P<date>\d{4}-\d{2}-\d{2})
	|(?P<number>-?\d+(?:\.\d+)?)
	|(?P<string>'(?:[^'\\]|\\.)*')
	|(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
	|(?P<op>!=|<>|<=|>=|=|<|>)
	|(?P<punct>[(),])
	""",
	re.VERBOSE,
)
STRING_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "'": "'", '"': '"', "\\": "\\"}
# TODO: semi-joins (Id IN (SELECT ...)), aggregates other than COUNT(), GROUP BY, TYPEOF and date
# literals such as TODAY or LAST_N_DAYS:n are refused as MALFORMED_QUERY — no caller sends them yet
MAX_NESTING = 100
MAX_OFFSET = 2000
UNKNOWN_COLUMN_HINT = (
	"If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. "
	"Please reference your WSDL or the describe call for the appropriate names."
)


@dataclass
class Token:
	kind: str
	text: str
	value: object
	position: int


def malformed(message: str) -> ApiError:
	return ApiError(400, "MALFORMED_QUERY", message)


def tokenize(text: str) -> list[Token]:
	tokens = []
	position = 0
	while position < len(text):
		match = TOKEN_PATTERN.match(text, position)
		if not match:
			raise malformed(f"unexpected token: '{text[position:].split()[0][:20]}'")
		kind = match.lastgroup
		raw = match.group()
		if kind != "space":
			tokens.append(Token(kind, raw, _token_value(kind, raw), position))
		position = match.end()
	tokens.append(Token("end", "", None, len(text)))
	return tokens


def _token_value(kind: str, raw: str):
	if kind == "string":
		return _unescape(raw[1:-1])
	if kind == "number":
		return float(raw) if "." in raw else int(raw)
	if kind in ("date", "datetime"):
		return _moment(kind, raw)
	return raw


def _moment(kind: str, raw: str):
	# a literal shaped like a date yet naming no day (2024-02-30, month 13, hour 25) is refused by
	# the parser, before any field is looked at
	try:
		return date.fromisoformat(raw) if kind == "date" else parse_datetime(raw)
	except ValueError:
		raise malformed(f"Invalid {kind}: {raw}") from None


def _unescape(body: str) -> str:
	out = []
	index = 0
	while index < len(body):
		char = body[index]
		if char == "\\" and index + 1 < len(body):
			escaped = body[index + 1]
			if escaped in "%_":
				# kept escaped: only LIKE gives \% and \_ a meaning
				out.append("\\" + escaped)
			elif escaped in STRING_ESCAPES:
				out.append(STRING_ESCAPES[escaped])
			else:
				raise malformed(
					f"Invalid string literal '{body}'. Illegal character sequence '\\{escaped}' in string literal."
				)
			index += 2
			continue
		out.append(char)
		index += 1
	return "".join(out)


# the syntax tree


@dataclass
class FieldPath:
	parts: list[str]
	position: int
	# filled by binding: the relationship fields walked and the final field
	relationships: list[Field] = field(default_factory=list)
	target: Field | None = None

	@property
	def text(self) -> str:
		return ".".join(self.parts)


@dataclass
class Comparison:
	path: FieldPath
	operator: str
	value: object


@dataclass
class Membership:
	path: FieldPath
	values: list
	negated: bool


@dataclass
class Like:
	path: FieldPath
	pattern: str


@dataclass
class BoolOp:
	operator: str
	operands: list


@dataclass
class Negation:
	operand: object


@dataclass
class Ordering:
	path: FieldPath
	descending: bool
	nulls_first: bool


@dataclass
class Query:
	source: str
	select: list
	count_only: bool = False
	where: object = None
	order_by: list[Ordering] = field(default_factory=list)
	limit: int | None = None
	offset: int | None = None
	sobject: SObjectType | None = None
	relationship_field: str | None = None


class Parser:
	def __init__(self, text: str):
		self.text = text
		self.tokens = tokenize(text)
		self.index = 0
		self.depth = 0

	# token helpers

	@property
	def current(self) -> Token:
		return self.tokens[self.index]

	def is_keyword(self, *words: str) -> bool:
		return self.current.kind == "name" and self.current.text.lower() in words

	def accept_keyword(self, word: str) -> bool:
		if self.is_keyword(word):
			self.index += 1
			return True
		return False

	def expect_keyword(self, word: str) -> None:
		if not self.accept_keyword(word):
			self.unexpected()

	def accept_punct(self, char: str) -> bool:
		if self.current.kind == "punct" and self.current.text == char:
			self.index += 1
			return True
		return False

	def expect_punct(self, char: str) -> None:
		if not self.accept_punct(char):
			self.unexpected()

	def unexpected(self):
		token = self.current
		shown = token.text or "<EOF>"
		raise malformed(
			f"\n{self.text}\n{' ' * token.position}^\nERROR at Row:1:Column:{token.position + 1}\n"
			f"unexpected token: '{shown}'"
		)

	# grammar

	def parse(self) -> Query:
		query = self.query()
		if self.current.kind != "end":
			self.unexpected()
		return query

	def query(self) -> Query:
		self.expect_keyword("select")
		select, count_only = self.select_list()
		self.expect_keyword("from")
		if self.current.kind != "name" or self.current.text.lower() in KEYWORDS:
			self.unexpected()
		query = Query(self.current.text, select, count_only)
		self.index += 1
		if self.accept_keyword("where"):
			query.where = self.disjunction()
		if self.is_keyword("group", "having"):
			raise malformed(f"{self.current.text.upper()} is not supported by this emulator")
		if self.accept_keyword("order"):
			self.expect_keyword("by")
			query.order_by = self.order_list()
		if self.accept_keyword("limit"):
			query.limit = self.whole_number()
		if self.accept_keyword("offset"):
			query.offset = self.offset()
		return query

	def offset(self) -> int:
		# "The maximum offset is 2,000 rows. Requesting an offset greater than 2,000 results in a
		# NUMBER_OUTSIDE_VALID_RANGE error." (SOQL and SOSL Reference, "OFFSET")
		value = self.whole_number()
		if value > MAX_OFFSET:
			raise ApiError(400, "NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {MAX_OFFSET}")
		return value

	def select_list(self) -> tuple[list, bool]:
		if self.is_keyword("count"):
			self.index += 1
			self.expect_punct("(")
			self.expect_punct(")")
			return [], True

		items = [self.select_item()]
		while self.accept_punct(","):
			items.append(self.select_item())
		return items, False

	def select_item(self):
		if self.accept_punct("("):
			subquery = self.query()
			self.expect_punct(")")
			return subquery
		return self.field_path()

	def field_path(self) -> FieldPath:
		token = self.current
		if token.kind != "name" or token.text.lower() in KEYWORDS:
			self.unexpected()
		self.index += 1
		return FieldPath(token.text.split("."), token.position)

	def whole_number(self) -> int:
		token = self.current
		if token.kind != "number" or not isinstance(token.value, int) or token.value < 0:
			self.unexpected()
		self.index += 1
		return token.value

	def order_list(self) -> list[Ordering]:
		orderings = []
		while True:
			path = self.field_path()
			descending = self.accept_keyword("desc")
			if not descending:
				self.accept_keyword("asc")
			# Salesforce puts nulls first when ascending and last when descending, unless told
			nulls_first = not descending
			if self.accept_keyword("nulls"):
				if self.accept_keyword("first"):
					nulls_first = True
				else:
					self.expect_keyword("last")
					nulls_first = False
			orderings.append(Ordering(path, descending, nulls_first))
			if not self.accept_punct(","):
				return orderings

	def disjunction(self):
		operands = [self.conjunction()]
		while self.accept_keyword("or"):
			operands.append(self.conjunction())
		return operands[0] if len(operands) == 1 else BoolOp("or", operands)

	def conjunction(self):
		operands = [self.negation()]
		while self.accept_keyword("and"):
			operands.append(self.negation())
		return operands[0] if len(operands) == 1 else BoolOp("and", operands)

	def negation(self):
		if self.accept_keyword("not"):
			return Negation(self.nested(self.negation))
		if self.accept_punct("("):
			inner = self.nested(self.disjunction)
			self.expect_punct(")")
			return inner
		return self.condition()

	def nested(self, rule):
		# each NOT or parenthesis is one more level of recursion here and in the evaluator; without
		# a cap, a few thousand of them exhaust the stack and the answer would be a 500
		if self.depth >= MAX_NESTING:
			raise malformed(f"conditions nested more than {MAX_NESTING} levels deep")
		self.depth += 1
		try:
			return rule()
		finally:
			self.depth -= 1

	def condition(self):
		path = self.field_path()
		if self.accept_keyword("like"):
			pattern = self.literal()
			if pattern.kind != "string":
				raise malformed("LIKE needs a string literal")
			return Like(path, pattern.value)
		negated = self.accept_keyword("not")
		if self.accept_keyword("in"):
			return Membership(path, self.literal_list(), negated)
		if negated:
			self.unexpected()
		if self.current.kind != "op":
			self.unexpected()
		operator = "!=" if self.current.text == "<>" else self.current.text
		self.index += 1
		return Comparison(path, operator, self.literal())

	def literal_list(self) -> list:
		self.expect_punct("(")
		if self.is_keyword("select"):
			raise malformed("semi-join subqueries are not supported by this emulator")
		values = [self.literal()]
		while self.accept_punct(","):
			values.append(self.literal())
		self.expect_punct(")")
		return values

	def literal(self):
		token = self.current
		if token.kind in {"string", "number", "date", "datetime"}:
			self.index += 1
			return Literal(token.kind, token.value)
		if token.kind == "name" and token.text.lower() in {"null", "true", "false"}:
			self.index += 1
			return Literal("keyword", {"null": None, "true": True, "false": False}[token.text.lower()])
		self.unexpected()


@dataclass
class Literal:
	kind: str
	value: object


def parse(text: str) -> Query:
	if not isinstance(text, str) or not text.strip():
		raise malformed("query is empty")
	return Parser(text).parse()


# binding names to the schema


class Binder:
	def __init__(self, schema, text: str):
		self.schema = schema
		self.text = text

	def bind(self, query: Query) -> Query:
		query.sobject = self.schema.get(query.source)
		if query.sobject is None:
			raise ApiError(
				400,
				"INVALID_TYPE",
				f"\n{self.text}\nERROR at Row:1:Column:1\nsObject type '{query.source}' is not supported. "
				"If you are attempting to use a custom object, be sure to append the '__c' after the entity "
				"name. Please reference your WSDL or the describe call for the appropriate names.",
			)
		self.bind_body(query)
		return query

	def bind_body(self, query: Query) -> None:
		for item in query.select:
			if isinstance(item, Query):
				self.bind_child(query.sobject, item)
			else:
				self.bind_path(query.sobject, item)
		self.bind_condition(query.sobject, query.where)
		for ordering in query.order_by:
			self.bind_path(query.sobject, ordering.path)

	def bind_child(self, parent: SObjectType, subquery: Query) -> None:
		relationship = parent.child_relationship(subquery.source)
		if relationship is None:
			raise ApiError(
				400,
				"INVALID_TYPE",
				f"\n{self.text}\nERROR at Row:1:Column:1\nDidn't understand relationship '{subquery.source}' "
				"in FROM part of query call. If you are attempting to use a custom relationship, be sure to "
				"append the '__r' after the custom relationship name. Please reference your WSDL or the "
				"describe call for the appropriate names.",
			)
		subquery.sobject = self.schema.get(relationship.child_object)
		subquery.relationship_field = relationship.field
		subquery.source = relationship.name
		if any(isinstance(item, Query) for item in subquery.select):
			raise malformed("a child subquery cannot contain another subquery")
		self.bind_body(subquery)

	def bind_path(self, sobject: SObjectType, path: FieldPath) -> None:
		current = sobject
		for part in path.parts[:-1]:
			relationship = current.relationship(part)
			if relationship is None:
				raise self.unknown(
					path,
					f"Didn't understand relationship '{part}' in field path. If you are attempting to use a "
					"custom relationship, be sure to append the '__r' after the custom relationship name. "
					"Please reference your WSDL or the describe call for the appropriate names.",
				)
			path.relationships.append(relationship)
			current = self.schema.get(relationship.reference_to)
		path.target = current.field(path.parts[-1])
		if path.target is None:
			raise self.unknown(
				path, f"No such column '{path.parts[-1]}' on entity '{current.name}'. {UNKNOWN_COLUMN_HINT}"
			)

	def unknown(self, path: FieldPath, message: str) -> ApiError:
		pointer = " " * path.position + "^"
		return ApiError(
			400,
			"INVALID_FIELD",
			f"\n{self.text}\n{pointer}\nERROR at Row:1:Column:{path.position + 1}\n{message}",
		)

	def bind_condition(self, sobject: SObjectType, node) -> None:
		if node is None:
			return
		if isinstance(node, BoolOp):
			for operand in node.operands:
				self.bind_condition(sobject, operand)
			return
		if isinstance(node, Negation):
			self.bind_condition(sobject, node.operand)
			return
		self.bind_path(sobject, node.path)
		if isinstance(node, Comparison):
			node.value = self.typed_literal(node.path, node.value)
		elif isinstance(node, Membership):
			node.values = [self.typed_literal(node.path, each) for each in node.values]
		elif isinstance(node, Like) and node.path.target.type not in {
			"string",
			"textarea",
			"email",
			"phone",
			"url",
			"picklist",
		}:
			raise ApiError(400, "INVALID_FIELD", f"invalid operator on {node.path.target.type} field: LIKE")

	def typed_literal(self, path: FieldPath, literal: Literal):
		"""The literal converted to the field's type; Salesforce refuses a literal of the wrong kind."""
		target = path.target
		value = literal.value
		if value is None:
			return None
		if target.type in {"id", "reference"}:
			if literal.kind != "string" or not ids.is_valid_id(value):
				raise ApiError(
					400, "INVALID_QUERY_FILTER_OPERATOR", f"\n{self.text}\ninvalid ID field: {value}"
				)
			return ids.to_18(value)
		expected = {"date": "date", "datetime": "datetime", "boolean": "keyword"}.get(target.type)
		if target.type in NUMBER_TYPES:
			expected = "number"
		if expected and literal.kind != expected:
			kind = {"datetime": "dateTime", "keyword": "boolean"}.get(expected, expected)
			raise ApiError(
				400,
				"INVALID_FIELD",
				f"\n{self.text}\nvalue of filter criterion for field '{target.name}' must be of type {kind} "
				"and should not be enclosed in quotes",
			)
		if not expected and literal.kind != "string":
			raise ApiError(
				400,
				"INVALID_FIELD",
				f"\n{self.text}\nvalue of filter criterion for field '{target.name}' must be of type string "
				"and should be enclosed in quotes",
			)
		return float(value) if expected == "number" else value


def compile_query(schema, text: str) -> Query:
	return Binder(schema, text).bind(parse(text))


# running


class Runner:
	"""Evaluates a bound query against an org; lookups walk the org's live records."""

	def __init__(self, org, api_version: str):
		self.org = org
		self.api_version = api_version

	def rows(self, query: Query, *, include_deleted: bool) -> list[dict]:
		matching = [row for row in self._candidates(query, include_deleted) if self.test(row, query.where)]
		matching = self.sort(matching, query.order_by)
		start = query.offset or 0
		end = None if query.limit is None else start + query.limit
		return matching[start:end]

	def _candidates(self, query: Query, include_deleted: bool) -> list[dict]:
		# Salesforce finds a record by Id through its index; scanning every record for it made a
		# large seeded org slower than ERPNext itself
		record_id = None if include_deleted else _id_sought(query.where)
		if record_id is None:
			return self.org.rows(query.sobject.name, include_deleted=include_deleted)
		record = self.org.find(query.sobject.name, record_id) if isinstance(record_id, str) else None
		return [record] if record else []

	def count(self, query: Query, *, include_deleted: bool) -> int:
		return len(self.rows(query, include_deleted=include_deleted))

	def shape(self, query: Query, row: dict) -> dict:
		"""One result record: `attributes` first, then the selected fields in the order asked."""
		out = {"attributes": self.attributes(query.sobject.name, row["Id"])}
		for item in query.select:
			if isinstance(item, Query):
				out[item.source] = self.children(item, row)
			else:
				self.place(out, item, row)
		return out

	def attributes(self, sobject: str, record_id: str) -> dict:
		return {"type": sobject, "url": f"/services/data/v{self.api_version}/sobjects/{sobject}/{record_id}"}

	def children(self, subquery: Query, parent: dict) -> dict | None:
		# the lines of one Opportunity come from the org's index: a REST page of Opportunities
		# with their lines would otherwise read every line in the org once per Opportunity
		siblings = self.org.children_of(subquery.sobject.name, subquery.relationship_field, parent["Id"])
		related = [row for row in siblings if self.test(row, subquery.where)]
		related = self.sort(related, subquery.order_by)
		start = subquery.offset or 0
		related = related[start : None if subquery.limit is None else start + subquery.limit]
		if not related:
			# an empty child relationship comes back as null, not as an empty list
			return None
		records = [self.shape(subquery, row) for row in related]
		return {"totalSize": len(records), "done": True, "records": records}

	def place(self, out: dict, path: FieldPath, row: dict) -> None:
		holder = out
		current = row
		for relationship in path.relationships:
			parent_id = current.get(relationship.name) if current else None
			parent = self.org.find(relationship.reference_to, parent_id) if parent_id else None
			name = relationship.relationship_name
			if parent is None:
				holder.setdefault(name, None)
				return
			if not isinstance(holder.get(name), dict):
				holder[name] = {"attributes": self.attributes(relationship.reference_to, parent["Id"])}
			holder = holder[name]
			current = parent
		holder[path.target.name] = to_json(path.target, current.get(path.target.name))

	def value(self, row: dict, path: FieldPath):
		current = row
		for relationship in path.relationships:
			parent_id = current.get(relationship.name)
			current = self.org.find(relationship.reference_to, parent_id) if parent_id else None
			if current is None:
				return None
		return current.get(path.target.name)

	def test(self, row: dict, node) -> bool:
		if node is None:
			return True
		if isinstance(node, BoolOp):
			results = (self.test(row, operand) for operand in node.operands)
			return all(results) if node.operator == "and" else any(results)
		if isinstance(node, Negation):
			return not self.test(row, node.operand)
		actual = self.value(row, node.path)
		if isinstance(node, Membership):
			found = any(_equal(actual, each) for each in node.values if each is not None)
			return (not found and actual is not None) if node.negated else found
		if isinstance(node, Like):
			return actual is not None and _like(str(actual), node.pattern)
		return _compare(actual, node.operator, node.value, exact=_is_id(node.path))

	def sort(self, rows: list[dict], orderings: list[Ordering]) -> list[dict]:
		# stable sorts applied from the last key to the first give a multi-key order
		for ordering in reversed(orderings):
			present = [row for row in rows if self.value(row, ordering.path) is not None]
			absent = [row for row in rows if self.value(row, ordering.path) is None]
			exact = _is_id(ordering.path)
			present.sort(
				key=lambda row, o=ordering: _sort_key(self.value(row, o.path), exact),
				reverse=ordering.descending,
			)
			rows = absent + present if ordering.nulls_first else present + absent
		return rows


def _id_sought(node) -> object:
	"""The literal of an `Id = ...` that the whole condition requires, or None when there is none."""
	if isinstance(node, Comparison) and node.operator == "=" and _is_own_id(node.path):
		return node.value
	if isinstance(node, BoolOp) and node.operator == "and":
		return next((found for found in map(_id_sought, node.operands) if found is not None), None)
	return None


def _is_own_id(path: FieldPath) -> bool:
	return not path.relationships and path.target is not None and path.target.type == "id"


def _is_id(path: FieldPath) -> bool:
	# Ids are case-sensitive base-62 numbers: they compare and sort as written, unlike text
	return path.target.type in {"id", "reference"}


def _sort_key(value, exact: bool = False):
	if isinstance(value, str) and not exact:
		return value.lower()
	if isinstance(value, datetime):
		return value.timestamp()
	return value


def _equal(actual, expected) -> bool:
	if actual is None or expected is None:
		return actual is None and expected is None
	if isinstance(actual, str) and isinstance(expected, str):
		# text comparisons in SOQL ignore case
		return actual.lower() == expected.lower()
	return actual == expected


def _compare(actual, operator: str, expected, *, exact: bool = False) -> bool:
	if operator in ("=", "!="):
		same = actual == expected if exact else _equal(actual, expected)
		return same if operator == "=" else not same
	if actual is None or expected is None:
		return False
	text = isinstance(actual, str) and not exact
	left, right = (actual.lower(), expected.lower()) if text else (actual, expected)
	if isinstance(left, datetime) and isinstance(right, datetime):
		left, right = left.timestamp(), right.timestamp()
	return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[operator]


def _like(text: str, pattern: str) -> bool:
	regex = ""
	index = 0
	while index < len(pattern):
		char = pattern[index]
		if char == "\\" and index + 1 < len(pattern):
			regex += re.escape(pattern[index + 1])
			index += 2
			continue
		regex += ".*" if char == "%" else "." if char == "_" else re.escape(char)
		index += 1
	return re.fullmatch(regex, text, re.IGNORECASE | re.DOTALL) is not None
