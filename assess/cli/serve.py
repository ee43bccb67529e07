"""`carnot serve [--host H] [--port P] [--max-body-bytes N] [--config FILE]`: the attestation API."""

from __future__ import annotations

import argparse

from assess.errors import ConfigError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from assess.cli import add_common

    p = sub.add_parser("serve", help="run the attestation API (POST /attest, GET /healthz, /docs)",
                       description=run.__doc__)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; "
                   "0.0.0.0 in a container)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p.add_argument("--max-body-bytes", type=int, metavar="N",
                   help="refuse request bodies over N bytes with 413 (default 10 MiB)")
    p.add_argument("--config", metavar="FILE", help="carnot.toml with [exposure] and [redaction] tables")
    add_common(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Serve the stateless attestation API on uvicorn: POST a CycloneDX CBOM to /attest, get an
    in-toto attestation and a Markdown report; OpenAPI docs at /docs."""
    # Imported here, not at the top: every other `carnot` command would pay for FastAPI's import.
    import uvicorn

    from assess.api import ApiSettings, create_app
    from assess.attest import AttestConfig

    if args.max_body_bytes is not None and args.max_body_bytes <= 0:
        raise ConfigError(f"--max-body-bytes must be positive, got {args.max_body_bytes}")
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be 0-65535, got {args.port}")
    config = AttestConfig.load(args.config) if args.config else AttestConfig()
    settings = ApiSettings(config=config)
    if args.max_body_bytes is not None:
        settings = ApiSettings(max_body_bytes=args.max_body_bytes, config=config)
    app = create_app(settings)
    uvicorn.run(app, host=args.host, port=args.port, log_level="debug" if args.verbose else "warning",
                access_log=bool(args.verbose))
    return 0
