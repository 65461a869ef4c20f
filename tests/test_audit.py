"""benchmarks/audit.py decides its exit status from pip-audit's JSON report (offline: pip-audit and the
network are stubbed; the real audit is run by hand, see README "Supply chain")."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("audit", Path(__file__).resolve().parent.parent / "benchmarks" / "audit.py")
audit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(audit)

SELF = {"name": "congdoan-bot", "skip_reason": "distribution marked as editable"}
FLASK = {"name": "flask", "version": "3.1.3", "vulns": []}
OLD = {"name": "jinja2", "version": "2.0", "vulns": [{"id": "PYSEC-1", "aliases": ["CVE-1"], "fix_versions": ["3.1.6"]}]}
MISSING = {"name": "numpy", "skip_reason": "Dependency not found on PyPI and could not be audited: numpy (2.4.6)"}


@pytest.fixture
def fake(monkeypatch):
    def use(report, reachable=None, code=0, stderr=""):
        monkeypatch.setattr(audit, "reachable", lambda service, timeout: reachable)
        monkeypatch.setattr(audit, "run_pip_audit", lambda service, timeout, ignore: (code, report, stderr))
    return use


@pytest.mark.parametrize(("deps", "strict", "status", "says"), [
    ([SELF, FLASK], False, 0, "Checked 1 of 1 installed packages: 0 known"),
    ([SELF, FLASK, OLD], False, 1, "jinja2 2.0: PYSEC-1, CVE-1 (fixed in: 3.1.6)"),
    ([SELF, MISSING], False, 0, "NOT a clean result"),
    ([SELF, MISSING], True, 2, "could not be checked"),
    ([FLASK, MISSING], False, 0, "1 packages could not be checked"),
    ([OLD, MISSING], False, 1, "1 known vulnerability"),
])
def test_exit_status_follows_the_report(fake, capsys, deps, strict, status, says):
    fake({"dependencies": deps, "fixes": []})
    assert audit.main(["--strict"] if strict else []) == status
    out = capsys.readouterr()
    assert says in out.out + out.err


def test_unreachable_service_is_a_warning_not_a_failure(fake, capsys):
    fake(None, reachable="Name or service not known")
    assert audit.main([]) == 0
    assert "unreachable" in capsys.readouterr().err
    assert audit.main(["--strict"]) == 2


def test_network_failure_during_the_audit_is_a_warning_and_other_failures_are_errors(fake, capsys):
    fake(None, code=1, stderr="pip_audit._service.interface.ServiceError: Connection aborted")
    assert audit.main([]) == 0
    fake(None, code=1, stderr="ModuleNotFoundError: No module named 'pip_audit'")
    assert audit.main([]) == 2
