"""The served flow's HTTP application (Starlette): its routes in one place, and how every answer is made.

Routes (promptflow's wire contract, plus the OpenAI-compatible endpoint): ``POST /score``,
``POST /v1/chat/completions``, ``GET /health``, ``GET /version``, ``GET /swagger.json``, ``GET /`` (a page to try
the flow). Every error is ``{"error": {"code", "message"}}`` (:mod:`flowline.serve.errors`); the server keeps
serving after each. Each request gets an id (the ``x-request-id`` header it sent, else a new one), echoed in
the answer's ``x-request-id`` and written with its access log line on stderr.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from flowline import __version__
from flowline.engine.capture import routed_output
from flowline.engine.events import Emitter, json_bytes
from flowline.engine.threads import LeavableThreads
from flowline.serve.access import AccessLog, RequestLog
from flowline.serve.config import ServeConfig
from flowline.serve.errors import ApiError
from flowline.serve.image_urls import fetch_request_images
from flowline.serve.live import LiveLine
from flowline.serve.openai_chat import Completion, chat_inputs, chat_output_node, first_token, stream_answer
from flowline.serve.served import ServedFlow, load_flow, request_inputs, run_request, unserializable
from flowline.serve.sse import ScoreStream, StreamPlan
from flowline.serve.swagger import swagger

__all__ = ["ServeConfig", "create_app"]

log = logging.getLogger("flowline.serve")

_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # proxies must not hold events back

Handler = Callable[[Request], Awaitable[Response]]

# A \uD800-\uDFFF escape in a body: only then are its strings checked for a lone surrogate (no UTF-8 for it).
_SURROGATE_ESCAPE = re.compile(rb"\\[uU][dD][89a-fA-F]")


def create_app(config: ServeConfig) -> Starlette:
    """The application serving ``config.flow``: the flow is validated and its tools loaded here, once.

    Raises :class:`flowline.serve.served.ServeLoadError` when the flow cannot be served. Sync tools run on
    ``config.workers`` threads of the server's event loop (set when the server starts)."""
    served = load_flow(config)
    routes = _Routes(served, config.max_body_bytes)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        asyncio.get_running_loop().set_default_executor(LeavableThreads(max_threads=config.workers))
        # Tools' prints and stderr are routed to their request's log lines (see served.tool_output).
        with routed_output():
            yield

    app = Starlette(
        routes=[
            Route("/", routes.page, methods=["GET"]),
            Route("/score", routes.score, methods=["POST"]),
            Route("/v1/chat/completions", routes.chat_completions, methods=["POST"]),
            Route("/health", routes.health, methods=["GET"]),
            Route("/version", routes.version, methods=["GET"]),
            Route("/swagger.json", routes.swagger, methods=["GET"]),
            # Browsers ask for it with the page: answered empty rather than logged as a 404 each time.
            Route("/favicon.ico", _no_icon, methods=["GET"]),
        ],
        middleware=[Middleware(RequestLog, log=AccessLog(sys.stderr))],
        exception_handlers={HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False  # `POST /score/` is 404 in the error shape, not a 307 that drops the body
    return app


async def _no_icon(request: Request) -> Response:
    return Response(status_code=204)


def _error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404 and 405 in the error shape."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        error = ApiError(405, "MethodNotAllowed", f"{request.url.path} does not take {request.method}; "
                         f"it takes {allowed}.", {"Allow": allowed})
    elif exc.status_code == 404:
        error = ApiError(404, "NotFound", f"No endpoint {request.method} {_shown_path(request)}. This server answers "
                         "POST /score, POST /v1/chat/completions (chat flows), GET /health, GET /version, "
                         "GET /swagger.json and GET / (a page to try the flow).")
    else:
        error = ApiError(exc.status_code, "HTTPError", str(exc.detail))
    return _error_response(error)


def _shown_path(request: Request) -> str:
    from flowline.serve.access import loggable_path

    return loggable_path(request.scope)


class _Routes:
    """The route handlers over one served flow."""

    def __init__(self, served: ServedFlow, max_body_bytes: int) -> None:
        self.served = served
        self.max_body_bytes = max_body_bytes
        self.plan = StreamPlan.of(served)
        self.page = self._answering(self._page)
        self.score = self._answering(self._score)
        self.chat_completions = self._answering(self._chat_completions)
        self.health = self._answering(self._health)
        self.version = self._answering(self._version)
        self.swagger = self._answering(self._swagger)

    def _answering(self, handler: Handler) -> Handler:
        """Every failure of a route answered in the error shape: :class:`ApiError` as it says, anything else
        as 500 (one log line, no traceback, secrets masked); a 5xx is logged with its request id."""

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as error:
                if error.status >= 500:
                    log.error("request %s: %s", request.state.request_id, error.message)
                return _error_response(error)
            except Exception as exc:  # noqa: BLE001 - a server keeps serving; the caller gets the error shape
                message = self.served.secrets.mask(f"{type(exc).__name__}: {exc}")
                log.error("request %s: internal error: %s", request.state.request_id, message)
                return _error_response(ApiError(500, "InternalError", message))

        return answer

    async def _json_body(self, request: Request) -> Any:
        """The request's JSON; 413 past the body limit (read no further), 400 when it is no JSON."""
        limit = self.max_body_bytes
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            raise self._too_large()
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise self._too_large()
        body = b"".join(chunks)
        if not body.strip():
            raise ApiError(400, "InvalidJSON", "The request body is empty; send the inputs as a JSON object.")
        try:
            value = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, "InvalidJSON", f"The request body is not valid JSON: {exc}.") from exc
        except RecursionError:
            raise ApiError(400, "InvalidJSON", "The request body nests arrays or objects too deeply to be read "
                           "(about 1,000 levels or more).") from None
        if _SURROGATE_ESCAPE.search(body) and _has_lone_surrogate(value):
            raise ApiError(400, "InvalidJSON", "The request body has a lone UTF-16 surrogate escape (\\ud800 to "
                           "\\udfff without its pair), which is no character.")
        return value

    def _too_large(self) -> ApiError:
        return ApiError(413, "PayloadTooLarge", f"The request body is larger than {self.max_body_bytes} bytes, the "
                        "most this server takes (flowline flow serve --max-body-size).")

    async def _score(self, request: Request) -> Response:
        inputs = request_inputs(self.served, await self._json_body(request))
        inputs = await fetch_request_images(inputs, self.served.allow_private_urls)
        request_id = request.state.request_id
        if "text/event-stream" not in request.headers.get("accept", ""):
            result = await run_request(self.served, inputs, Emitter(), request_id, stream=False)
            assert result.outputs is not None
            try:
                return Response(json_bytes(result.outputs), media_type="application/json")
            except ValueError as exc:  # NaN, an infinity
                raise unserializable(self.served, result.outputs, exc) from None
        live = LiveLine(self.served, inputs, request_id)
        stream = ScoreStream(self.plan, live, inputs)
        try:
            opening = await stream.start()
        except ValueError as exc:  # an output NaN or infinite
            live.close()
            raise unserializable(self.served, {}, exc) from None
        except BaseException:
            live.close()
            raise
        return StreamingResponse(_chain(opening, stream.rest()), media_type="text/event-stream",
                                 headers=_SSE_HEADERS)

    async def _chat_completions(self, request: Request) -> Response:
        body = await self._json_body(request)
        inputs = await fetch_request_images(chat_inputs(self.served, body), self.served.allow_private_urls)
        completion = Completion(self.served, body, request.state.request_id)
        if body.get("stream") is not True:
            result = await run_request(self.served, inputs, Emitter(), request.state.request_id, stream=False)
            return JSONResponse(completion.answer(result))
        node = chat_output_node(self.served)
        live = LiveLine(self.served, inputs, request.state.request_id)
        try:
            early, ended = await first_token(live, node)
        except BaseException:
            live.close()
            raise
        return StreamingResponse(stream_answer(completion, live, node, early, ended), media_type="text/event-stream",
                                 headers=_SSE_HEADERS)

    async def _health(self, request: Request) -> Response:
        return JSONResponse({"status": "Healthy", "version": __version__})

    async def _version(self, request: Request) -> Response:
        return JSONResponse({"status": "Healthy", "version": __version__, "build_info": ""})

    async def _swagger(self, request: Request) -> Response:
        return JSONResponse(swagger(self.served))

    async def _page(self, request: Request) -> Response:
        return HTMLResponse(resources.files("flowline.serve").joinpath("page.html").read_text(encoding="utf-8"))


def _has_lone_surrogate(value: Any) -> bool:
    """Whether a string in the parsed JSON (keys too) holds a lone surrogate; walked without recursion."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
    return False


async def _chain(first: list[bytes], rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    for item in first:
        yield item
    async for item in rest:
        yield item
