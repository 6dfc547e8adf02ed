# Copyright: Contributors to the awskms.custom_key_store collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Command line: ``PYTHONPATH=tests python -m emulator [options]``.

Prints one line, ``emulator listening on http://HOST:PORT``, once it accepts requests, then
serves until SIGINT or SIGTERM and exits 0. Scripts wait for that line instead of sleeping.
"""

import argparse
import json
import logging
import signal
import sys
import threading

from .errors import ControlError
from .server import DEFAULT_HOST
from .server import DEFAULT_PORT
from .server import start
from .world import DEFAULT_QUOTAS
from .world import DEFAULT_SETTINGS


def _seconds(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a number of seconds" % text)
    if value < 0:
        raise argparse.ArgumentTypeError("durations cannot be negative")
    return value


def _count(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a whole number" % text)
    if value < 0:
        raise argparse.ArgumentTypeError("quotas cannot be negative")
    return value


def _port(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a port number" % text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("ports run from 0 to 65535")
    return value


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description="Local emulator of the AWS KMS custom key store and CloudHSM v2 APIs (AWS JSON 1.1 over HTTP).",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (default %(default)s)")
    parser.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help="port to listen on; 0 picks a free one (default %(default)s)"
    )
    parser.add_argument("--seed", metavar="FILE.json", help="seed document (or list of them) to load at start")
    for name, default in sorted(DEFAULT_SETTINGS.items()):
        option = "--" + name.replace("_", "-")
        parser.add_argument(
            option,
            dest=name,
            type=_seconds,
            default=default,
            metavar="SECONDS",
            help="duration of %s (default %%(default)s)" % name[: -len("_seconds")].replace("_", " "),
        )
    for name, default in sorted(DEFAULT_QUOTAS.items()):
        option = "--" + name.replace("_", "-")
        parser.add_argument(
            option,
            dest=name,
            type=_count,
            default=default,
            metavar="N",
            help="quota: %s (default %%(default)s)" % name[: -len("_quota")].replace("_", " "),
        )
    parser.add_argument("--verbose", action="store_true", help="log one line per AWS request on standard error")
    return parser.parse_args(argv)


def _load_seed(path):
    with open(path, "r", encoding="utf-8") as handle:
        return json.load(handle)


def _fail(message, status):
    sys.stderr.write("emulator: %s\n" % message)
    return status


def main(argv=None):
    """Run the emulator in the foreground; return the exit status."""
    args = parse_args(argv)
    if args.verbose:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")

    stopping = threading.Event()

    def request_stop(signum, frame):
        stopping.set()

    # Installed first, so a signal during start-up ends the program quietly too.
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    settings = dict((name, getattr(args, name)) for name in list(DEFAULT_SETTINGS) + list(DEFAULT_QUOTAS))
    try:
        seed = _load_seed(args.seed) if args.seed else None
    except (OSError, ValueError) as exc:
        return _fail("cannot read seed file %s: %s" % (args.seed, exc), 2)
    try:
        handle = start(args.host, args.port, seed, **settings)
    except ControlError as exc:
        return _fail("bad seed: %s" % exc, 2)
    except OSError as exc:
        return _fail("cannot listen on %s:%d: %s" % (args.host, args.port, exc), 1)

    sys.stdout.write("emulator listening on %s\n" % handle.url)
    sys.stdout.flush()
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        handle.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
