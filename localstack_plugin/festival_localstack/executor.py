"""A LocalStack Lambda runtime executor that runs functions as host processes.

LocalStack 4.14 ships only a Docker executor, which also downloads a Go binary
(``lambda-runtime-init``) from GitHub. On a machine without a Docker engine or that
download, this executor starts ``runtime_init.py`` on the interpreter configured for
the function's runtime; that process speaks the same HTTP protocol to LocalStack as the
Go binary (ready, invoke, logs, response, error).

Interpreters come from ``FESTIVAL_LAMBDA_INTERPRETERS``, a JSON object mapping a runtime
(``"python3.10"``) to a Python executable, typically a virtualenv holding boto3 so the
function sees what AWS Lambda provides.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import threading
from pathlib import Path

from localstack.services.lambda_.invocation.executor_endpoint import ExecutorEndpoint
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)
from localstack.utils.net import get_free_tcp_port

LOG = logging.getLogger(__name__)

RUNTIME_INIT = Path(__file__).with_name("runtime_init.py")
INTERPRETERS_VARIABLE = "FESTIVAL_LAMBDA_INTERPRETERS"
HOST = "127.0.0.1"
# Keep the last lines a function printed, for LocalStack's startup-failure messages.
MAX_LOG_CHARS = 64_000


def interpreter_for(runtime: str) -> str:
    """The Python executable configured for a Lambda runtime, or a clear error."""
    configured = json.loads(os.environ.get(INTERPRETERS_VARIABLE) or "{}")
    interpreter = configured.get(runtime)
    if not interpreter:
        raise LambdaRuntimeException(
            f"No interpreter configured for Lambda runtime {runtime!r}: "
            f"{INTERPRETERS_VARIABLE} has {sorted(configured)}. "
            "Deploy with a configured runtime or add one (see docs/local-stack.md)."
        )
    if not os.access(interpreter, os.X_OK):
        raise LambdaRuntimeException(
            f"Interpreter {interpreter} for runtime {runtime!r} is missing or not executable"
        )
    return interpreter


class HostProcessExecutor(RuntimeExecutor):
    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.port = get_free_tcp_port()
        self.executor_endpoint = ExecutorEndpoint(
            self.id, container_address=HOST, container_port=self.port
        )
        self.process: subprocess.Popen | None = None
        self._output: list[str] = []
        self._output_lock = threading.Lock()

    def start(self, env_vars: dict[str, str]) -> None:
        runtime = self.function_version.config.runtime
        if not runtime or not runtime.startswith("python"):
            raise LambdaRuntimeException(f"Runtime {runtime!r} is not supported by host-process")
        interpreter = interpreter_for(runtime)
        code_dir = str(self.function_version.config.code.get_unzipped_code_location())

        env = {key: str(value) for key, value in env_vars.items()}
        env.update(
            {
                # The function reads its code from here, as /var/task on AWS.
                "LAMBDA_TASK_ROOT": code_dir,
                "PYTHONPATH": code_dir,
                "PYTHONUNBUFFERED": "1",
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": os.environ.get("HOME", "/tmp"),
                "FESTIVAL_INVOKE_HOST": HOST,
                "FESTIVAL_INVOKE_PORT": str(self.port),
            }
        )
        for passthrough in ("TMPDIR", "LANG", "LC_ALL"):
            if passthrough in os.environ:
                env[passthrough] = os.environ[passthrough]

        self.executor_endpoint.start()
        LOG.debug("Starting %s on %s for %s", RUNTIME_INIT, interpreter, self.id)
        self.process = subprocess.Popen(
            [interpreter, "-u", str(RUNTIME_INIT)],
            cwd=code_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        threading.Thread(target=self._collect_output, daemon=True).start()
        self.executor_endpoint.wait_for_startup()

    def _collect_output(self) -> None:
        assert self.process and self.process.stdout
        for line in self.process.stdout:
            with self._output_lock:
                self._output.append(line)
                while sum(map(len, self._output)) > MAX_LOG_CHARS and len(self._output) > 1:
                    self._output.pop(0)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        try:
            self.executor_endpoint.shutdown()
        except Exception as error:  # the endpoint may never have started
            LOG.debug("Error while stopping executor endpoint %s: %s", self.id, error)

    def get_address(self) -> str:
        return HOST

    def get_endpoint_from_executor(self) -> str:
        return HOST

    def get_runtime_endpoint(self) -> str:
        from localstack import config

        port = config.GATEWAY_LISTEN[0].port
        return f"http://{HOST}:{port}{self.executor_endpoint.get_endpoint_prefix()}"

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        return self.executor_endpoint.invoke(payload)

    def get_logs(self) -> str:
        with self._output_lock:
            return "".join(self._output)

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        if function_version.config.code:
            function_version.config.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        pass


class HostProcessExecutorPlugin(RuntimeExecutorPlugin):
    name = "host-process"

    def load(self, *args, **kwargs):
        return HostProcessExecutor
