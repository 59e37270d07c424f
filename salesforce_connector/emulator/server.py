"""The emulator's HTTP(S) server: stdlib ThreadingHTTPServer, optional TLS, routes to handlers."""

import logging
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from salesforce_connector.emulator.errors import ApiError
from salesforce_connector.emulator.wire import Request, Response

logger = logging.getLogger(__name__)

SERVER_ERROR = ApiError(
	500,
	"UNKNOWN_EXCEPTION",
	"An unexpected error occurred. Please include this ErrorId if you contact support.",
)


class EmulatorServer:
	"""Serves one Org on host:port (port 0 picks a free one), over TLS when given an SSLContext."""

	def __init__(
		self, org, host: str = "127.0.0.1", port: int = 0, ssl_context: ssl.SSLContext | None = None
	):
		from salesforce_connector.emulator.routes import Router

		self.org = org
		self.router = Router(org)
		self._stopping = threading.Event()
		self._httpd = _Httpd((host, port), _handler_class(self), ssl_context)
		self._tls = ssl_context is not None
		self._thread: threading.Thread | None = None
		self.org.base_url = self.url

	@property
	def url(self) -> str:
		host, port = self._httpd.server_address[:2]
		return f"{'https' if self._tls else 'http'}://{host}:{port}"

	@property
	def stopping(self) -> threading.Event:
		return self._stopping

	def start(self) -> "EmulatorServer":
		self._thread = threading.Thread(
			target=self._httpd.serve_forever,
			kwargs={"poll_interval": 0.005},
			name="salesforce-emulator",
			daemon=True,
		)
		self._thread.start()
		logger.info("Salesforce emulator serving %s", self.url)
		return self

	def stop(self) -> None:
		self._stopping.set()
		self._httpd.shutdown()
		self._httpd.server_close()
		if self._thread:
			self._thread.join(timeout=5)

	def __enter__(self) -> "EmulatorServer":
		return self.start()

	def __exit__(self, *exc) -> None:
		self.stop()

	def handle(self, request: Request) -> Response:
		try:
			return self.router.dispatch(request, self._stopping)
		except ApiError as error:
			return Response.of_error(error)
		except Exception:
			# never a traceback in an answer: log it here, send Salesforce's generic error
			logger.exception("emulator failed on %s %s", request.method, request.path)
			return Response.of_error(SERVER_ERROR)


class _Httpd(ThreadingHTTPServer):
	daemon_threads = True

	def __init__(self, address, handler, ssl_context: ssl.SSLContext | None):
		self.ssl_context = ssl_context
		super().__init__(address, handler)

	def finish_request(self, request, client_address) -> None:
		# the TLS handshake runs in the connection's own thread, so one slow client cannot stall accept()
		if self.ssl_context is not None:
			try:
				request = self.ssl_context.wrap_socket(request, server_side=True)
			except (ssl.SSLError, OSError):
				return
		super().finish_request(request, client_address)


def _handler_class(server: EmulatorServer):
	class Handler(BaseHTTPRequestHandler):
		protocol_version = "HTTP/1.1"
		# headers and body go out as two writes; without this, Nagle plus delayed ACKs cost 40 ms a call
		disable_nagle_algorithm = True
		server_version = "SalesforceEmulator"
		sys_version = ""

		def _serve(self) -> None:
			try:
				length = int(self.headers.get("Content-Length") or 0)
			except ValueError:
				self._write(
					Response.of_error(ApiError(400, "JSON_PARSER_ERROR", "Bad Content-Length header"))
				)
				return
			body = self.rfile.read(length) if length > 0 else b""
			request = Request(self.command, self.path, dict(self.headers.items()), body)
			response = server.handle(request)
			self._write(response)

		def _write(self, response: Response) -> None:
			self.send_response(response.status)
			if response.content_type:
				self.send_header("Content-Type", response.content_type)
			for name, value in response.headers.items():
				self.send_header(name, value)
			self.send_header("Content-Length", str(len(response.body)))
			self.end_headers()
			if self.command != "HEAD":
				self.wfile.write(response.body)

		do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve

		def log_message(self, format: str, *args) -> None:
			logger.debug("%s %s", self.address_string(), format % args)

		def handle_one_request(self) -> None:
			try:
				super().handle_one_request()
			except (ConnectionError, ssl.SSLError, TimeoutError):
				self.close_connection = True

	return Handler
