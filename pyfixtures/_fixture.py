"""Shared bits for mpwire's Python fixture scripts (stdlib only, Python 3.8+).

Every fixture arms a watchdog so a hung peer dies with a stack dump instead of
hanging the Go test that started it.
"""
import argparse
import faulthandler
import json
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


def emit(**kw):
    """Report one result to the Go side: a JSON object on one stdout line
    (keys sorted, values JSON cannot hold as their repr), flushed."""
    print(json.dumps(kw, sort_keys=True, default=repr), flush=True)


def finish(p, timeout):
    """Join process p for up to timeout seconds, killing it if it is still
    running then; return its exit code from before the kill (None if it
    had to be killed)."""
    p.join(timeout)
    code = p.exitcode
    if code is None:
        p.kill()
        p.join(timeout)
    return code


def scenario_args(description, scenarios, not_in_all=()):
    """Parse the command line of a parent script that runs scenarios against
    a Go worker binary (--go, --scenario NAME|all) and arm the watchdog.
    Returns the arguments and the scenario names to run, in order; "all"
    leaves out the names in not_in_all."""
    p = parser(description)
    p.add_argument("--go", required=True, help="the Go worker binary")
    p.add_argument("--scenario", default="all", choices=sorted(scenarios) + ["all"])
    args = p.parse_args()
    start(args)
    if args.scenario != "all":
        return args, [args.scenario]
    return args, [n for n in sorted(scenarios) if n not in not_in_all]
