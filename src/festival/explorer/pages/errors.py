"""The pages of a request that failed: AWS out of reach, a refused upload, a page that is
not there, or an error nobody expected. `create_app` registers `ERROR_PAGES`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import render_template
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import InternalServerError, NotFound, RequestEntityTooLarge

from festival.explorer.pages.shared import explorer, problem_page, upload_form_page
from festival.explorer.stack import UNREACHABLE_ERRORS, Problem, explain


def unreachable(error: Exception) -> ResponseReturnValue:
    return problem_page(explain(error, local=explorer().local), 503)


def forged(error: CSRFError) -> ResponseReturnValue:
    return upload_form_page(
        "The upload was refused: the form's security token was missing or stale. "
        "Reload this page and choose the file again.",
        status=400,
    )


def too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    return upload_form_page(
        f"The file is larger than the {explorer().max_upload_bytes / 2**20:g} MB this page "
        "takes: upload it with aws s3 cp (see the Upload page's note), or start festival "
        "serve with a larger --max-upload-mb.",
        status=413,
    )


def unexpected(error: InternalServerError) -> ResponseReturnValue:
    cause = error.original_exception or error
    return problem_page(
        Problem(
            "Something unexpected failed",
            f"{type(cause).__name__}: {cause}. The terminal running festival serve shows "
            "the details.",
            "Reloading this page runs it again; if it fails the same way, the details in "
            "that terminal say why.",
        ),
        500,
    )


def not_found(error: NotFound) -> ResponseReturnValue:
    return render_template("not_found.html"), 404


ERROR_PAGES: dict[type[Exception], Callable[[Any], ResponseReturnValue]] = {
    **dict.fromkeys(UNREACHABLE_ERRORS, unreachable),
    CSRFError: forged,
    RequestEntityTooLarge: too_large,
    InternalServerError: unexpected,
    NotFound: not_found,
}
