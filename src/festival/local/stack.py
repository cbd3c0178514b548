"""The local stack: LocalStack on the host, MailDev, the mail forwarder, the deployed template."""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass

import requests
from botocore.exceptions import BotoCoreError, ClientError

from festival.local import emulator_state, setup, state
from festival.local.deploy import DeployTarget, cli_path, deploy_local
from festival.local.mailforward import QUEUE_NAME, MailForwarder
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
from festival.stack import outputs_of
from festival.templates import parse_template

ARTIFACTS_BUCKET = "festival-lineup-artifacts"
LOCALSTACK_STOP_S = 5.0
# What saving or restoring the emulator's data may fail with (said as a StateError).
STATE_FAILURES = (BotoCoreError, ClientError, requests.RequestException, OSError, ValueError)
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
            # 4.14 stops its services (the Lambda runtimes too) within a second of SIGTERM,
            # then waits for requests in flight (the mail forwarder's long poll: up to 20 s)
            # and hangs in its exit, joining a thread that waits on the stopped event loop.
            # Its data is saved through our routes before it is stopped, and a runtime it
            # had no time to stop exits when it is gone (runtime_init.py).
            stop_timeout_s=LOCALSTACK_STOP_S,
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
                "--journal",
                str(paths.mail_journal),
            ],
        ),
    }


@dataclass
class UpResult:
    started: list[str]
    deployed: bool
    outputs: dict[str, str]
    restored: state.Figures | None = None


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
        setup.install(paths)
        prepare_saved_state(paths)
        started = [name for name, service in services(paths).items() if service.start()]
        parameters = {"NotificationEmail": email, "LambdaRuntime": LOCAL_LAMBDA_RUNTIME}
    session = local_session()
    deployed = deploy_stack(paths, STACK_NAME, parameters)
    restored = None
    # A freshly started emulator is empty: what the last `down` saved goes back in.
    if "localstack" in started and state.saved_stacks(paths.emulator_state):
        declared = template_parameters(paths)

        def redeploy(saved: state.SavedStack) -> dict[str, str]:
            if saved.name != STACK_NAME:
                # Its parameters as saved, less any the template no longer declares.
                kept = {k: v for k, v in saved.parameters.items() if k in declared}
                deploy_stack(paths, saved.name, kept)
            return outputs_of(local_client("cloudformation"), saved.name)

        try:
            restored = state.restore(paths.emulator_state, LOCAL_ENDPOINT, local_client, redeploy)
        except STATE_FAILURES as error:
            raise state.StateError(
                f"restoring what `make down` saved in {paths.emulator_state} failed: {error}. "
                "It is still there: `make down DISCARD=1` then `make up` tries again; "
                "`make reset` starts empty instead."
            ) from error
    # Subscribe the forwarder's queue now, so no email published from here on is missed.
    MailForwarder(session, LOCAL_ENDPOINT, "127.0.0.1", SMTP_PORT).sync_subscriptions()
    outputs = outputs_of(local_client("cloudformation"), STACK_NAME)
    if deployed:
        wait_until_function_ready(outputs["FunctionName"])
    return UpResult(started=started, deployed=deployed, outputs=outputs, restored=restored)


def deploy_stack(paths: LocalPaths, name: str, parameters: dict[str, str]) -> bool:
    """Deploy cloudformation.yaml as stack ``name``; True if anything changed (then its
    function has answered an invocation)."""
    target = DeployTarget(
        cli=[cli_path("awslocal")],
        artifacts_bucket=ARTIFACTS_BUCKET,
        stack_name=name,
        parameters=parameters,
        env=LOCAL_CREDENTIALS,
    )
    deployed = deploy_local(paths, target, local_client)
    if deployed and name != STACK_NAME:
        outputs = outputs_of(local_client("cloudformation"), name)
        wait_until_function_ready(outputs["FunctionName"])
    return deployed


def template_parameters(paths: LocalPaths) -> set[str]:
    """The parameters cloudformation.yaml declares."""
    template = parse_template((paths.root / "cloudformation.yaml").read_text("utf-8"))
    return set(template.get("Parameters", {}))


def prepare_saved_state(paths: LocalPaths) -> None:
    """Put the state routes where LocalStack runs them, and MailDev's folder in place."""
    paths.init_scripts.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(emulator_state.__file__, paths.init_scripts / "festival_state.py")
    paths.saved_state.mkdir(parents=True, exist_ok=True)
    earlier = paths.state / "mail"  # where MailDev kept its messages before .local/state
    if earlier.is_dir() and not paths.mail_store.exists():
        earlier.rename(paths.mail_store)
    paths.mail_store.mkdir(exist_ok=True)


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


@dataclass
class DownResult:
    stopped: list[str]
    saved: state.Figures | None = None


def down(paths: LocalPaths, only: list[str] | None = None, save: bool = True) -> DownResult:
    """Stop the processes we started (all, or the named ones): the names stopped, and what
    was saved.

    Unless ``save`` is false, the stacks' buckets and tables are saved first (when the
    emulator is among them and running), after the emails already published reached
    MailDev. A failed save stops nothing (StateError): the data is still in the emulator.
    """
    saved = None
    emulator = services(paths)["localstack"]
    if save and (only is None or "localstack" in only) and emulator.is_running():
        if localstack_healthy():
            try:
                drain_mail_queue()
                saved = state.save(paths.emulator_state, LOCAL_ENDPOINT, local_client)
            except STATE_FAILURES as error:
                raise state.StateError(f"saving the local stack's data failed: {error}") from error
    stopped = []
    for name, service in reversed(list(services(paths).items())):
        if (only is None or name in only) and service.stop():
            stopped.append(name)
    return DownResult(stopped, saved)


MAIL_DRAIN_S = 10.0


def drain_mail_queue(deadline_s: float = MAIL_DRAIN_S) -> None:
    """Wait (a little) until the forwarder has sent what is on its queue to MailDev."""
    sqs = local_client("sqs")
    try:
        url = sqs.get_queue_url(QueueName=QUEUE_NAME)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        return
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        counts = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        if not any(int(value) for value in counts.values()):
            return
        time.sleep(0.2)


def reset(paths: LocalPaths, email: str = LOCAL_EMAIL) -> UpResult:
    """Stop everything without saving, forget the saved state and mail, start empty."""
    down(paths, save=False)
    shutil.rmtree(paths.saved_state, ignore_errors=True)
    return up(paths, email=email)


def status(paths: LocalPaths) -> dict[str, int | None]:
    return {name: service.pid() for name, service in services(paths).items()}
