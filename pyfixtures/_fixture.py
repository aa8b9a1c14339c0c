"""Shared bits for mpwire's Python fixture scripts (stdlib only, Python 3.8+).

Every fixture arms a watchdog so a hung peer dies with a stack dump instead of
hanging the Go test that started it.
"""
import argparse
import faulthandler
import os
import sys

DEFAULT_WATCHDOG = float(os.environ.get("MPWIRE_WATCHDOG", "60"))


def parser(description):
    """An ArgumentParser with the options every fixture shares."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--watchdog", type=float, default=DEFAULT_WATCHDOG,
                   help="seconds after which the script dumps its stacks and exits "
                        "(default %(default)s, env MPWIRE_WATCHDOG)")
    return p


def start(args):
    """Arm the watchdog (faulthandler) for a parsed argument namespace."""
    if args.watchdog > 0:
        faulthandler.dump_traceback_later(args.watchdog, exit=True)


def ready(*words):
    """Tell the Go side we are ready: one line on stdout, flushed."""
    print(*words, flush=True)


def authkey_from_env(name="MPWIRE_AUTHKEY"):
    """Authkey as bytes from a hex environment variable, or None if unset."""
    v = os.environ.get(name)
    return None if v is None else bytes.fromhex(v)
