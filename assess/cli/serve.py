"""`carnot serve [--host H] [--port P] [--max-body-bytes N] [--body-timeout S] [--idle-timeout S]
[--max-concurrent-uploads N] [--max-connections N] [--workers N] [--config FILE]`: the attestation API."""

from __future__ import annotations

import argparse

from assess.errors import ConfigError

# Flags that size the server's limits, with the ApiSettings field each sets (docs/API.md, Limits).
_LIMITS = {
    "max_body_bytes": "refuse request bodies over N bytes with 413 (default 10 MiB)",
    "body_timeout": "answer 408 to a body not received within S seconds in all (default 60)",
    "idle_timeout": "answer 408 to a body that stalls for S seconds, and close connections that "
                    "send no complete request for S seconds (default 10)",
    "max_concurrent_uploads": "receive at most N request bodies at once; others wait up to --idle-timeout "
                              "for a slot, then get 503 (default 8)",
    "max_connections": "serve at most N connections at once; uvicorn answers 503 beyond (default 100)",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from assess.cli import add_common

    p = sub.add_parser("serve", help="run the attestation API (POST /attest, GET /healthz, /docs)",
                       description=run.__doc__)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; "
                   "0.0.0.0 in a container)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    for name, text in _LIMITS.items():
        metavar = "S" if name.endswith("timeout") else "N"
        p.add_argument("--" + name.replace("_", "-"), type=int, metavar=metavar, help=text)
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="serve from N processes sharing the socket, each with the limits above (default 1; "
                        "about one per core)")
    p.add_argument("--config", metavar="FILE", help="carnot.toml with [exposure] and [redaction] tables")
    add_common(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Serve the stateless attestation API on uvicorn: POST a CycloneDX CBOM to /attest, get an
    in-toto attestation and a Markdown report; OpenAPI docs at /docs."""
    # Imported here, not at the top: every other `carnot` command would pay for FastAPI's import.
    from assess.api import ApiSettings, serve
    from assess.attest import AttestConfig

    limits = {name: getattr(args, name) for name in _LIMITS if getattr(args, name) is not None}
    for name, value in limits.items():
        if value <= 0:
            raise ConfigError(f"--{name.replace('_', '-')} must be positive, got {value}")
    if args.workers < 1:
        raise ConfigError(f"--workers must be positive, got {args.workers}")
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be 0-65535, got {args.port}")
    config = AttestConfig.load(args.config) if args.config else AttestConfig()
    serve(ApiSettings(config=config, **limits), args.host, args.port, workers=args.workers,
          verbose=bool(args.verbose))
    return 0
