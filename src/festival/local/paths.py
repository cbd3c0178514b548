"""Where the project and its local state live."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

LOCALSTACK_VERSION = "4.14.0"
MAILDEV_VERSION = "3.0.0"
SMTP_PORT = 1025
MAIL_WEB_PORT = 1080
MAIL_WEB_URL = f"http://127.0.0.1:{MAIL_WEB_PORT}"
# The runtime the local stack deploys, so the end-to-end tests prove the code on 3.10.
LOCAL_LAMBDA_RUNTIME = "python3.10"
LOCAL_EMAIL = "festival-ops@example.com"


def project_root() -> Path:
    """The checkout holding cloudformation.yaml (FESTIVAL_HOME overrides the search)."""
    if os.environ.get("FESTIVAL_HOME"):
        return Path(os.environ["FESTIVAL_HOME"]).resolve()
    for folder in [Path.cwd(), *Path.cwd().parents, *Path(__file__).resolve().parents]:
        if (folder / "cloudformation.yaml").is_file() and (folder / "lambda").is_dir():
            return folder
    raise FileNotFoundError(
        "cannot find the festival-lineup checkout (cloudformation.yaml); "
        "run from inside it or set FESTIVAL_HOME"
    )


@dataclass(frozen=True)
class LocalPaths:
    """Everything the local stack writes lives under one ignored folder, .local/."""

    root: Path

    @classmethod
    def default(cls) -> LocalPaths:
        return cls(project_root())

    @property
    def state(self) -> Path:
        return self.root / ".local"

    @property
    def run(self) -> Path:
        return self.state / "run"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def emulator_venv(self) -> Path:
        return self.state / "emulator"

    @property
    def localstack_state(self) -> Path:
        return self.state / "localstack"

    def runtime_venv(self, runtime: str) -> Path:
        return self.state / "runtimes" / runtime

    @property
    def maildev(self) -> Path:
        return self.state / "maildev"

    @property
    def saved_state(self) -> Path:
        """What `down` keeps for the next `up` (removed by `reset`)."""
        return self.state / "state"

    @property
    def emulator_state(self) -> Path:
        """The stacks' buckets and tables as `down` saved them (festival.local.state)."""
        return self.saved_state / "emulator"

    @property
    def mail_store(self) -> Path:
        """MailDev's messages: it writes each one here and loads them all when it starts."""
        return self.saved_state / "mail"

    @property
    def mail_journal(self) -> Path:
        """The SNS message ids the mail forwarder has sent, so none is sent twice."""
        return self.saved_state / "mail-forwarded.txt"

    @property
    def init_scripts(self) -> Path:
        """Scripts LocalStack runs in its own process once ready (FILESYSTEM_ROOT's
        etc/localstack/init/ready.d)."""
        return self.localstack_state / "data" / "etc" / "localstack" / "init" / "ready.d"

    @property
    def build(self) -> Path:
        return self.state / "build"
