"""docker-compose.yml cannot run here (no Docker engine): check it names what host mode runs."""

from __future__ import annotations

from pathlib import Path

import yaml

from festival import settings
from festival.local import paths, stack

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def services() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def test_compose_runs_the_same_localstack_and_maildev_versions_as_host_mode():
    assert services()["localstack"]["image"] == f"localstack/localstack:{paths.LOCALSTACK_VERSION}"
    assert services()["maildev"]["image"] == f"maildev/maildev:{paths.MAILDEV_VERSION}"


def test_compose_publishes_the_same_ports_on_loopback_only():
    published = {port for service in services().values() for port in service.get("ports", [])}
    assert published == {
        f"127.0.0.1:{settings.LOCALSTACK_PORT}:4566",
        f"127.0.0.1:{paths.SMTP_PORT}:1025",
        f"127.0.0.1:{paths.MAIL_WEB_PORT}:1080",
    }


def test_compose_forwarder_runs_our_forwarder_against_the_compose_services():
    forwarder = services()["mailforward"]
    assert "festival.local.mailforward" in forwarder["command"]
    assert "--endpoint http://localstack:4566" in forwarder["command"]
    assert "--smtp-host maildev --smtp-port 1025" in forwarder["command"]
    assert forwarder["depends_on"]["localstack"]["condition"] == "service_healthy"


def test_compose_localstack_can_start_lambda_containers():
    localstack = services()["localstack"]
    assert "/var/run/docker.sock:/var/run/docker.sock" in localstack["volumes"]
    assert "LAMBDA_RUNTIME_EXECUTOR=docker" in localstack["environment"]
    for name, value in stack.ESM_POLLING.items():  # the same polling of the parts queue
        assert f"{name}={value}" in localstack["environment"]


def test_host_mode_installs_the_same_localstack_version():
    requirements = (COMPOSE.parent / "kit" / "emulator-requirements.txt").read_text()
    assert f"localstack-core[runtime]=={paths.LOCALSTACK_VERSION}" in requirements
