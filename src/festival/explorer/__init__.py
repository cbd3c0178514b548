"""`festival serve`: the lineup explorer, a local web app over `festival.queries`."""

from festival.explorer.app import create_app

__all__ = ["create_app"]
