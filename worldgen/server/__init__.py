"""The web editor and multiplayer server (``worldgen serve``; docs/server.md).

:func:`create_app` builds the FastAPI app; :func:`serve` runs it with uvicorn.
"""

from __future__ import annotations

__all__ = ["create_app", "serve"]


def create_app(*args, **kwargs):
    from worldgen.server.app import create_app as _create

    return _create(*args, **kwargs)


def serve(host: str = "127.0.0.1", port: int = 8000, db: str = "worlds.sqlite", *, log_level: str = "warning") -> None:
    """Runs the server until interrupted. Binds to ``host`` (loopback unless told otherwise)."""
    import uvicorn

    hosts = ("127.0.0.1", "localhost", "::1") if host in ("127.0.0.1", "localhost", "::1") else \
        ("127.0.0.1", "localhost", host)
    app = create_app(db, allowed_hosts=hosts)
    uvicorn.run(app, host=host, port=port, log_level=log_level, ws_max_size=1 << 16, ws_ping_interval=20,
                # JPEG frames do not compress; deflating them cost more CPU than the whole simulation
                ws_per_message_deflate=False)
