"""The FastAPI app: the editor page, the JSON API and the room WebSocket (docs/server.md).

Security contract: every room route needs the room's token (``Authorization: Bearer``; the
WebSocket takes ``?token=``) and a role allowed to do it (403 otherwise); request bodies are
capped (413) and must be JSON (415; uploads: multipart), so a page on another origin cannot
post without a CORS preflight, which this app never answers; WebSocket upgrades from another
origin are refused; ``Host`` must be the address the server was started on (no DNS rebinding);
clients never name files.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from worldgen.server.room import MAX_STRIKES
from worldgen.server.rooms import RoomError, Rooms

__all__ = ["MAX_IMAGE_BYTES", "MAX_JSON_BYTES", "create_app"]

MAX_JSON_BYTES = 1 << 20
MAX_IMAGE_BYTES = 4 << 20
MAX_WS_MESSAGE = 4096
STATIC = Path(__file__).parent / "static"
OWNER_ONLY = {"owner"}
ANY_ROLE = {"owner", "player", "spectator"}


def create_app(db_path: str = "worlds.sqlite", *, allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost"),
               resume: bool = True) -> FastAPI:
    """The server app over the SQLite file ``db_path``; rooms found there resume on startup."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.rooms = await run_in_threadpool(Rooms, db_path, resume=resume)
        try:
            yield
        finally:
            await run_in_threadpool(app.state.rooms.close)

    app = FastAPI(title="worldgen", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    hosts = set(allowed_hosts)

    @app.middleware("http")
    async def guard(request: Request, call_next):
        host = (request.headers.get("host") or "").rsplit(":", 1)[0].strip("[]")
        if host not in hosts:
            return JSONResponse({"error": f"unknown host {host[:60]!r}"}, status_code=400)
        if request.method in ("POST", "PUT", "PATCH"):
            length = request.headers.get("content-length")
            cap = MAX_IMAGE_BYTES + 4096 if request.url.path.endswith("/style-image") else MAX_JSON_BYTES
            if length is None:
                return JSONResponse({"error": "a body needs a Content-Length"}, status_code=411)
            if not length.isdigit() or int(length) > cap:
                return JSONResponse({"error": f"body too large (at most {cap} bytes)"}, status_code=413)
        response = await call_next(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = ("default-src 'self'; img-src 'self' blob: data:; "
                                                       "connect-src 'self'; style-src 'self'")
        return response

    @app.exception_handler(RoomError)
    async def room_error(_request: Request, exc: RoomError):
        body: dict[str, Any] = {"error": exc.message}
        if exc.errors:
            body["errors"] = exc.errors
        return JSONResponse(body, status_code=exc.status)

    def rooms(request: Request | WebSocket) -> Rooms:
        return request.app.state.rooms

    def token_of(request: Request) -> str | None:
        auth = request.headers.get("authorization", "")
        return auth[7:].strip() if auth.lower().startswith("bearer ") else None

    def room_for(request: Request, room_id: str, roles: set[str]):
        room, role = rooms(request).role(room_id, token_of(request))
        if role not in roles:
            raise RoomError(403, f"a {role} may not do this; it needs the {' or '.join(sorted(roles))} token")
        return room, role

    async def json_body(request: Request) -> dict[str, Any]:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise RoomError(415, "send JSON (Content-Type: application/json)")
        raw = await request.body()
        if len(raw) > MAX_JSON_BYTES:
            raise RoomError(413, f"body too large (at most {MAX_JSON_BYTES} bytes)")
        try:
            data = json.loads(raw or b"{}")
        except (ValueError, RecursionError) as exc:
            raise RoomError(422, f"malformed JSON: {str(exc)[:200]}") from None
        if not isinstance(data, dict):
            raise RoomError(422, "the body must be a JSON object")
        return data

    def owner_player(room) -> str | None:
        names = [p.name for p in room.world.spec.players]
        return names[0] if names else None

    # ------------------------------------------------------------ pages
    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(STATIC / "index.html")

    if STATIC.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # ------------------------------------------------------------ catalogue
    @app.get("/api/schema")
    async def schema():
        from worldgen.spec import json_schema

        return json_schema()

    @app.get("/api/examples")
    async def examples():
        import worldgen

        return {"examples": worldgen.examples()}

    @app.get("/api/styles")
    async def styles():
        from worldgen.server.protocol import GBUFFER_VIEWS, RESTYLED_VIEWS

        return {"views": ["albedo", *GBUFFER_VIEWS, *RESTYLED_VIEWS, "palette"],
                "styles": ["albedo", *RESTYLED_VIEWS, "palette"]}

    # ------------------------------------------------------------ rooms
    @app.post("/api/rooms", status_code=201)
    async def create_room(request: Request):
        body = await json_body(request)
        return await run_in_threadpool(rooms(request).create, body)

    @app.get("/api/rooms/{room_id}")
    async def get_room(request: Request, room_id: str):
        room, role = room_for(request, room_id, ANY_ROLE)
        return await run_in_threadpool(room.info, role, owner_player(room) if role == "owner" else None)

    async def owner_edit(request: Request, room_id: str, fn, *, body: bool = True):
        room, role = room_for(request, room_id, OWNER_ONLY)
        data = await json_body(request) if body else None
        await run_in_threadpool(fn, room, data) if body else await run_in_threadpool(fn, room)
        return await run_in_threadpool(room.info, role, owner_player(room))

    def owner_route(method: str, path: str, action: str) -> None:
        """An owner-only edit: JSON body → ``Rooms.<action>(room, body)`` → the room."""

        async def route(request: Request, room_id: str):
            return await owner_edit(request, room_id, getattr(rooms(request), action))

        route.__name__ = action
        app.add_api_route(path, route, methods=[method])

    owner_route("PUT", "/api/rooms/{room_id}/spec", "put_spec")
    owner_route("POST", "/api/rooms/{room_id}/prompt", "from_prompt")
    owner_route("POST", "/api/rooms/{room_id}/edit", "edit_by_prompt")
    owner_route("POST", "/api/rooms/{room_id}/import", "import_world")
    owner_route("POST", "/api/rooms/{room_id}/load", "load")

    @app.post("/api/rooms/{room_id}/undo")
    async def undo(request: Request, room_id: str):
        return await owner_edit(request, room_id, lambda room: rooms(request).move_history(room, -1), body=False)

    @app.post("/api/rooms/{room_id}/redo")
    async def redo(request: Request, room_id: str):
        return await owner_edit(request, room_id, lambda room: rooms(request).move_history(room, +1), body=False)

    @app.post("/api/rooms/{room_id}/control")
    async def control(request: Request, room_id: str):
        def act(room, data):
            action = data.get("action")
            if action not in ("play", "pause", "step", "rewind", "reset"):
                raise RoomError(422, "action must be one of play, pause, step, rewind, reset",
                                [{"field": "action", "message": "play, pause, step, rewind or reset"}])
            ticks = data.get("ticks", 1 if action == "step" else 60)
            if type(ticks) is not int or not 1 <= ticks <= 3600:
                raise RoomError(422, "ticks must be an integer in 1..3600",
                                [{"field": "ticks", "message": "an integer in 1..3600"}])
            room.control(action, ticks)

        return await owner_edit(request, room_id, act)

    @app.post("/api/rooms/{room_id}/style-image")
    async def style_image(request: Request, room_id: str):
        room, role = room_for(request, room_id, OWNER_ONLY)
        ctype = request.headers.get("content-type", "")
        if not ctype.startswith("multipart/form-data"):
            raise RoomError(415, "upload the picture as multipart/form-data, field 'image'")
        form = await request.form(max_files=1, max_fields=4, max_part_size=MAX_IMAGE_BYTES)
        upload = form.get("image")
        if upload is None or isinstance(upload, str):
            raise RoomError(422, "no file in field 'image'", [{"field": "image", "message": "a picture file"}])
        data = await upload.read(MAX_IMAGE_BYTES + 1)
        if len(data) > MAX_IMAGE_BYTES:
            raise RoomError(413, f"image too large (at most {MAX_IMAGE_BYTES} bytes)")
        await run_in_threadpool(rooms(request).style_image, room, data)
        return await run_in_threadpool(room.info, role, owner_player(room))

    @app.get("/api/rooms/{room_id}/why/{event_id}")
    async def why(request: Request, room_id: str, event_id: int):
        room, _ = room_for(request, room_id, ANY_ROLE)
        chain = await run_in_threadpool(room.why, event_id)
        if chain is None:
            raise RoomError(404, f"event {event_id} is not in this world's log")
        return {"chain": chain}

    @app.get("/api/rooms/{room_id}/pick")
    async def pick(request: Request, room_id: str, x: float, y: float, view_w: int = 320, view_h: int = 240):
        room, _ = room_for(request, room_id, ANY_ROLE)
        if not (0 <= x <= 1 and 0 <= y <= 1 and 8 <= view_w <= 1024 and 8 <= view_h <= 1024):
            raise RoomError(422, "x and y must be in 0..1, view_w and view_h in 8..1024")
        w, h = max(32, view_w // 2), max(32, view_h // 2)
        return {"entity": await run_in_threadpool(room.pick, x, y, (w, h))}

    @app.get("/api/rooms/{room_id}/export")
    async def export(request: Request, room_id: str):
        room, _ = room_for(request, room_id, ANY_ROLE)
        return await run_in_threadpool(room.exported)

    @app.get("/api/rooms/{room_id}/saves")
    async def list_saves(request: Request, room_id: str):
        room, _ = room_for(request, room_id, ANY_ROLE)
        return {"saves": await run_in_threadpool(rooms(request).store.saves, room.id)}

    @app.post("/api/rooms/{room_id}/saves")
    async def add_save(request: Request, room_id: str):
        room, _ = room_for(request, room_id, OWNER_ONLY)
        data = await json_body(request)
        return {"saves": await run_in_threadpool(rooms(request).save, room, data)}

    @app.get("/api/rooms/{room_id}/stats")
    async def stats(request: Request, room_id: str):
        room, _ = room_for(request, room_id, ANY_ROLE)
        return room.stats()

    # ------------------------------------------------------------ the live connection
    @app.websocket("/ws/rooms/{room_id}")
    async def live(ws: WebSocket, room_id: str):
        origin = ws.headers.get("origin")
        host = ws.headers.get("host", "")
        if host.rsplit(":", 1)[0].strip("[]") not in hosts:  # DNS rebinding: as for HTTP
            await ws.close(code=4400, reason="unknown host")
            return
        if origin is not None and origin.split("://", 1)[-1] != host:
            await ws.close(code=4403, reason="cross-origin WebSocket refused")
            return
        try:
            room, role = rooms(ws).role(room_id, ws.query_params.get("token"))
        except RoomError as exc:
            await ws.close(code=4404 if exc.status == 404 else 4403, reason=exc.message[:120])
            return
        await ws.accept()
        client = room.join(role, asyncio.get_running_loop())
        sender = asyncio.create_task(_send_loop(ws, client))
        try:
            while True:
                msg = await ws.receive()
                if msg["type"] == "websocket.disconnect":
                    break
                text = msg.get("text")
                if text is None or len(text) > MAX_WS_MESSAGE:
                    client.deliver(json.dumps({"type": "error", "message": f"send JSON text ≤ {MAX_WS_MESSAGE} bytes"}))
                    continue
                if not client.allow():
                    if client.strikes > MAX_STRIKES:
                        await ws.close(code=1008, reason="input flood")
                        break
                    now = asyncio.get_running_loop().time()
                    if now - client.last_notice > 1.0:
                        client.last_notice = now
                        client.deliver('{"type":"rate_limited"}')
                    continue
                error = _handle(room, client, text)
                if error:
                    client.deliver(json.dumps({"type": "error", "message": error}))
        except WebSocketDisconnect:
            pass
        finally:
            room.leave(client)
            client.wake.set()
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender

    return app


def _handle(room, client, text: str) -> str | None:
    try:
        msg = json.loads(text)
    except ValueError:
        return "messages are JSON objects"
    if not isinstance(msg, dict):
        return "messages are JSON objects"
    kind = msg.get("type")
    if kind == "input":
        return room.input(client, msg.get("controls"))
    if kind == "view":
        return room.set_view(client, msg.get("view"), msg.get("size"))
    return f"unknown message type {str(kind)[:30]!r}; types: input, view"


async def _send_loop(ws: WebSocket, client) -> None:
    """Delivers the client's queued messages, then its newest frame; never blocks the room."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, asyncio.CancelledError):
        while not client.closed:
            await client.wake.wait()
            client.wake.clear()
            while client.texts:
                await ws.send_text(client.texts.popleft())
            if client.frame is not None:
                frame, client.frame = client.frame, None
                await ws.send_bytes(frame)
