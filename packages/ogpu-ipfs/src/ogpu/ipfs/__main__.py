"""The ``ogpu-ipfs`` command: publish, fetch and compute CIDs from the shell.

Examples::

    ogpu-ipfs publish result.json            # prints the gateway URL
    echo '{"a": 1}' | ogpu-ipfs publish -     # from stdin
    ogpu-ipfs fetch ipfs://Qm... --verify -o out.bin
    ogpu-ipfs cid model.bin                   # prints only the CID
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

#: Exit codes: success, a failure (one ``ogpu-ipfs: error: ...`` line on stderr), bad usage.
EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    from ogpu.ipfs._errors import IPFSConfigError

    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise IPFSConfigError(f"cannot read {path!r}: {exc.strerror or exc}") from exc


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ogpu-ipfs",
        description="Publish and fetch OpenGPU content on IPFS.",
        epilog="Exit status: 0 on success, 1 on failure (one error line on stderr), "
        "2 on bad usage.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    pub = sub.add_parser("publish", help="publish a file (or - for stdin); prints the URL")
    pub.add_argument("file", metavar="FILE|-")
    pub.add_argument("--filename", help="name sent to the service (default: the file's)")
    pub.add_argument("--content-type", help="content type (default: guessed from the name)")
    pub.add_argument("--publish-url", help="OGPU pinning endpoint (env OGPU_IPFS_PUBLISH_URL)")
    pub.add_argument("--backend", choices=("ogpu", "kubo"), help="publish backend")
    pub.add_argument("--kubo-api", help="Kubo RPC API base URL (env OGPU_IPFS_KUBO_API)")
    pub.add_argument("--gateway", help="gateway prefix for links (env OGPU_IPFS_GATEWAY)")
    pub.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    fetch = sub.add_parser("fetch", help="fetch an IPFS URL, ipfs:// URL or CID")
    fetch.add_argument("url", metavar="URL")
    fetch.add_argument("--verify", action="store_true", help="check the bytes against the CID")
    fetch.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write here instead of stdout (whole or not at all: never half-written)",
    )
    fetch.add_argument("--gateway", help="trusted gateway prefix (env OGPU_IPFS_GATEWAY)")
    fetch.add_argument("--timeout", type=float, default=None, help="seconds per request")
    fetch.add_argument("--max-bytes", type=int, default=None, help="size cap in bytes")
    cid = sub.add_parser("cid", help="print the CID `ipfs add` gives a file (or - for stdin)")
    cid.add_argument("file", metavar="FILE|-")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 failure, 2 usage error: argparse exits)."""
    args = _parser().parse_args(argv)
    from ogpu.ipfs import (
        OGPUError,
        compute_cid,
        fetch_ipfs_bytes,
        fetch_to_file,
        publish_bytes,
    )

    try:
        if args.command == "cid":
            print(compute_cid(_read(args.file)))
        elif args.command == "publish":
            name = args.filename or ("stdin" if args.file == "-" else args.file.rsplit("/", 1)[-1])
            content_type = args.content_type
            if content_type is None:
                import mimetypes

                content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            print(
                publish_bytes(
                    _read(args.file),
                    name,
                    content_type,
                    args.timeout,
                    publish_url=args.publish_url,
                    backend=args.backend,
                    kubo_api_url=args.kubo_api,
                    gateway=args.gateway,
                )
            )
        else:
            verify = True if args.verify else None
            if args.output:  # like curl -o, an existing file is replaced (only on success)
                fetch_to_file(
                    args.url,
                    args.output,
                    overwrite=True,
                    timeout=args.timeout,
                    verify=verify,
                    gateway=args.gateway,
                    max_bytes=args.max_bytes,
                )
            else:
                data = fetch_ipfs_bytes(
                    args.url,
                    args.timeout,
                    verify=verify,
                    gateway=args.gateway,
                    max_bytes=args.max_bytes,
                )
                sys.stdout.buffer.write(data)
                sys.stdout.buffer.flush()
    except (OGPUError, OSError) as exc:
        print(f"ogpu-ipfs: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("ogpu-ipfs: error: interrupted", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
