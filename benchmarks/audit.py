"""Dependency audit: every package installed in this Python environment, checked with pip-audit
against the public advisory database (PyPI's JSON API by default, or OSV). Needs network access.

Usage:
    .venv/bin/python benchmarks/audit.py [--strict] [--service pypi|osv] [--ignore-vuln ID ...] [--timeout S]

Exit status:
    0  no known vulnerability; or the advisory service could not be reached / answered for too few
       packages to say (a warning on stderr says so: the result is "not checked", not "clean")
    1  at least one installed package has a known vulnerability (listed with the fixed versions)
    2  the audit itself failed, or (--strict) some packages could not be checked

The project itself (installed editable) is not on PyPI and is skipped. pip-audit reports
"No known vulnerabilities found" even when it could look up none of the packages (an advisory
service that answers 404 to every version, as behind some mirrors); this script counts the
packages that were really checked and says so.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

SERVICES = {"pypi": "https://pypi.org/pypi/pip/json", "osv": "https://api.osv.dev/v1/vulns/PYSEC-2021-1"}
NETWORK_WORDS = ("connection", "max retries", "name or service not known", "temporary failure in name resolution", "timed out",
                 "network is unreachable", "serviceerror", "ssl", "proxy")


def warn(text: str) -> None:
    print(f"WARNING: {text}", file=sys.stderr)


def reachable(service: str, timeout: float) -> str | None:
    """None if the service answers at all (any HTTP status), else why not."""
    try:
        with urllib.request.urlopen(SERVICES[service], timeout=timeout):
            return None
    except urllib.error.HTTPError:
        return None  # it answered; whether it knows our versions shows in the audit itself
    except (urllib.error.URLError, OSError) as exc:
        return str(getattr(exc, "reason", exc))


def run_pip_audit(service: str, timeout: float, ignore: list[str]) -> tuple[int, dict | None, str]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audit.json"
        cmd = [sys.executable, "-m", "pip_audit", "--progress-spinner", "off", "--skip-editable", "--vulnerability-service", service,
               "--format", "json", "--output", str(out), "--aliases", "on", "--desc", "off", "--timeout", str(int(timeout))]
        for vuln in ignore:
            cmd += ["--ignore-vuln", vuln]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        try:
            report = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            report = None
    return proc.returncode, report, proc.stderr.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--service", choices=sorted(SERVICES), default="pypi", help="advisory service (default: pypi)")
    parser.add_argument("--strict", action="store_true", help="fail (exit 2) when any package could not be checked")
    parser.add_argument("--ignore-vuln", action="append", default=[], metavar="ID", help="an accepted advisory (repeatable)")
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds per request (default: 15)")
    args = parser.parse_args(argv)

    print(f"==> pip-audit of {sys.executable} ({args.service} advisory service)", file=sys.stderr)
    why = reachable(args.service, args.timeout)
    if why is not None:
        warn(f"the {args.service} advisory service is unreachable ({why}); dependencies NOT audited.")
        return 2 if args.strict else 0

    code, report, stderr = run_pip_audit(args.service, args.timeout, args.ignore_vuln)
    if report is None:
        if any(word in stderr.lower() for word in NETWORK_WORDS):
            warn(f"the advisory service failed during the audit; dependencies NOT audited.\n{stderr[-2000:]}")
            return 2 if args.strict else 0
        print(f"pip-audit failed (exit {code}):\n{stderr[-4000:]}", file=sys.stderr)
        return 2

    deps = report.get("dependencies", [])
    editable = [d for d in deps if "editable" in (d.get("skip_reason") or "")]
    unchecked = [d for d in deps if d.get("skip_reason") and d not in editable]
    checked = [d for d in deps if not d.get("skip_reason")]
    vulnerable = [d for d in checked if d.get("vulns")]

    for dep in vulnerable:
        for vuln in dep["vulns"]:
            ids = ", ".join([vuln["id"], *vuln.get("aliases", [])])
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed version yet"
            print(f"{dep['name']} {dep['version']}: {ids} (fixed in: {fixed})")
    count = sum(len(d["vulns"]) for d in vulnerable)
    print(f"Checked {len(checked)} of {len(deps) - len(editable)} installed packages: "
          f"{count} known vulnerabilit{'y' if count == 1 else 'ies'} in {len(vulnerable)} package{'' if len(vulnerable) == 1 else 's'}.")
    if unchecked:
        names = ", ".join(f"{d['name']}" for d in unchecked[:10]) + (" …" if len(unchecked) > 10 else "")
        warn(f"{len(unchecked)} packages could not be checked ({names}): {unchecked[0]['skip_reason']}. "
             "The advisory service did not answer for them (no network, or a mirror without the per-version API).")
    if vulnerable:
        return 1
    if unchecked:
        if not checked:
            warn("no package was checked: this is NOT a clean result.")
        return 2 if args.strict else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
