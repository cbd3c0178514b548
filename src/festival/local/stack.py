"""The local stack: LocalStack on the host, MailDev, the mail forwarder, the deployed template."""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from dataclasses import dataclass

import requests

from festival.local import setup
from festival.local.deploy import DeployTarget, cli_path, deploy_local, stack_outputs
from festival.local.mailforward import MailForwarder
from festival.local.paths import (
    LOCAL_EMAIL,
    LOCAL_LAMBDA_RUNTIME,
    MAIL_WEB_PORT,
    MAIL_WEB_URL,
    SMTP_PORT,
    LocalPaths,
)
from festival.local.processes import ProcessError, Service, http_ok
from festival.settings import (
    LOCAL_CREDENTIALS,
    LOCAL_ENDPOINT,
    LOCALSTACK_PORT,
    STACK_NAME,
    local_client,
    local_session,
)

ARTIFACTS_BUCKET = "festival-lineup-artifacts"
# Start order; stopped in reverse.
SERVICE_NAMES = ("localstack", "maildev", "mailforward")


def localstack_healthy() -> bool:
    try:
        services = requests.get(f"{LOCAL_ENDPOINT}/_localstack/health", timeout=2).json()
    except (requests.RequestException, ValueError):
        return False
    wanted = ("s3", "lambda", "dynamodb", "sns", "sqs", "cloudformation", "iam", "logs")
    return all(
        services.get("services", {}).get(name) in {"available", "running"} for name in wanted
    )


ESM_POLLING = {
    "LAMBDA_EVENT_SOURCE_MAPPING_POLL_INTERVAL_SEC": "0.2",
    "LAMBDA_EVENT_SOURCE_MAPPING_MAX_BACKOFF_ON_EMPTY_POLL_SEC": "0.5",
}


def localstack_environment(paths: LocalPaths) -> dict[str, str]:
    state = paths.localstack_state
    for folder in ("data", "tmp", "home", "config"):
        (state / folder).mkdir(parents=True, exist_ok=True)
    return {
        # The machine may look like a container (/.dockerenv): LocalStack runs on the host.
        "OVERRIDE_IN_DOCKER": "0",
        "FILESYSTEM_ROOT": str(state / "data"),
        "HOME": str(state / "home"),
        "TMPDIR": str(state / "tmp"),
        "CONFIG_DIR": str(state / "config"),
        # hypercorn honours the host part; the default server listens on 0.0.0.0.
        "GATEWAY_LISTEN": f"127.0.0.1:{LOCALSTACK_PORT}",
        "GATEWAY_SERVER": "hypercorn",
        "DNS_ADDRESS": "0",
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "DISABLE_EVENTS": "1",
        # Our plugin (localstack_plugin/): Lambda as host processes, DynamoDB from moto.
        "LAMBDA_RUNTIME_EXECUTOR": "host-process",
        "PROVIDER_OVERRIDE_DYNAMODB": "festival_moto",
        "FESTIVAL_LAMBDA_INTERPRETERS": setup.interpreter_map(paths),
        # The parts queue is polled at most half a second apart (LocalStack backs off up to
        # 10 s on an empty queue), so the next part of a large file starts soon after it is queued.
        **ESM_POLLING,
        # LocalStack 4.14 stamps S3 events with the local time marked as UTC ("Z"); a
        # removal compares that time with upload times, which are UTC.
        "TZ": "UTC",
        "LS_LOG": "info",
    }


def services(paths: LocalPaths) -> dict[str, Service]:
    service = functools.partial(Service, run_dir=paths.run, log_dir=paths.logs)
    emulator_python = paths.emulator_venv / "bin" / "python"
    maildev = paths.maildev / "node_modules" / ".bin" / "maildev"
    return {
        "localstack": service(
            name="localstack",
            command=[str(emulator_python), "-m", "localstack.runtime.main"],
            ports=[LOCALSTACK_PORT],
            env=localstack_environment(paths) if emulator_python.exists() else {},
            healthy=localstack_healthy,
            start_timeout_s=120,
        ),
        "maildev": service(
            name="maildev",
            command=[
                str(maildev),
                "--ip",
                "127.0.0.1",
                "--smtp",
                str(SMTP_PORT),
                "--web",
                str(MAIL_WEB_PORT),
                "--mail-directory",
                str(paths.mail_store),
            ],
            ports=[SMTP_PORT, MAIL_WEB_PORT],
            healthy=http_ok(f"{MAIL_WEB_URL}/api/healthz"),
        ),
        "mailforward": service(
            name="mailforward",
            command=[
                sys.executable,
                "-m",
                "festival.local.mailforward",
                "--endpoint",
                LOCAL_ENDPOINT,
                "--smtp-port",
                str(SMTP_PORT),
            ],
        ),
    }


@dataclass
class UpResult:
    started: list[str]
    deployed: bool
    outputs: dict[str, str]


def install(paths: LocalPaths) -> None:
    setup.ensure_emulator(paths)
    setup.ensure_lambda_runtime(paths, LOCAL_LAMBDA_RUNTIME)
    setup.ensure_maildev(paths)


def up(paths: LocalPaths, email: str = LOCAL_EMAIL, docker: bool = False) -> UpResult:
    """Install what is missing, start what is not running, deploy the template.

    With ``docker``, docker-compose.yml runs the emulator, MailDev and the forwarder
    instead, and the function keeps the template's default runtime (Docker images).
    """
    if docker:
        compose(paths, "up", "--detach", "--wait")
        started: list[str] = []
        parameters = {"NotificationEmail": email}
    else:
        install(paths)
        started = [name for name, service in services(paths).items() if service.start()]
        parameters = {"NotificationEmail": email, "LambdaRuntime": LOCAL_LAMBDA_RUNTIME}
    session = local_session()
    target = DeployTarget(
        cli=[cli_path("awslocal")],
        artifacts_bucket=ARTIFACTS_BUCKET,
        stack_name=STACK_NAME,
        parameters=parameters,
        env=LOCAL_CREDENTIALS,
    )
    deployed = deploy_local(paths, target, local_client)
    # Subscribe the forwarder's queue now, so no email published from here on is missed.
    MailForwarder(session, LOCAL_ENDPOINT, "127.0.0.1", SMTP_PORT).sync_subscriptions()
    outputs = stack_outputs(local_client("cloudformation"), STACK_NAME)
    if deployed:
        wait_until_function_ready(outputs["FunctionName"])
    return UpResult(started=started, deployed=deployed, outputs=outputs)


def wait_until_function_ready(function: str, timeout_s: float = 120) -> None:
    """Wait for the function's update to finish and for one invocation to go through.

    LocalStack drops S3 events that arrive while a function's code is being replaced, so
    `up` returns only once the new code has answered an invocation.
    """
    client = local_client("lambda")
    client.get_waiter("function_updated_v2").wait(
        FunctionName=function, WaiterConfig={"Delay": 1, "MaxAttempts": int(timeout_s)}
    )
    # An event naming no object: the handler ignores it (no row, no email, no error).
    client.invoke(FunctionName=function, Payload=b'{"warmup": true}')


def compose(paths: LocalPaths, *arguments: str) -> None:
    """Run `docker compose` on docker-compose.yml, or say why it cannot run."""
    docker = shutil.which("docker")
    if (
        not docker
        or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0
    ):
        raise ProcessError(
            "Docker Compose is not available here: use the default host mode (make up)"
        )
    result = subprocess.run(
        [docker, "compose", "--file", str(paths.root / "docker-compose.yml"), *arguments]
    )
    if result.returncode != 0:
        raise ProcessError(f"`docker compose {' '.join(arguments)}` failed")


def down(paths: LocalPaths, only: list[str] | None = None) -> list[str]:
    """Stop the processes we started (all, or the named ones); the names stopped."""
    stopped = []
    for name, service in reversed(list(services(paths).items())):
        if (only is None or name in only) and service.stop():
            stopped.append(name)
    return stopped


def status(paths: LocalPaths) -> dict[str, int | None]:
    return {name: service.pid() for name, service in services(paths).items()}
