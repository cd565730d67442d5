"""The small server-rendered pages of the actions function. No script, no external resource.

GET shows what a link would do and a form that POSTs it back: following a link changes nothing
(chat unfurlers and mail scanners fetch links on their own); only the form's POST acts.
"""

from __future__ import annotations

from html import escape

from nightshift.actions.token import Reason

# Status of each refusal, and the sentence people read.
REFUSALS: dict[Reason, tuple[int, str]] = {
    Reason.MALFORMED: (400, "This is not a Nightshift action link."),
    Reason.FORGED: (403, "This link's signature is not valid; nothing was changed."),
    Reason.WRONG_TARGET: (403, "This link was made for another target; nothing was changed."),
    Reason.EXPIRED: (410, "This link has expired; nothing was changed."),
    Reason.WRONG_KIND: (403, "This link is not for this page; nothing was changed."),
    Reason.ALREADY_USED: (409, "This link was used already; nothing changed."),
}

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}"
    "button{font-size:1rem;padding:.5rem 1rem}"
)


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width">'
        '<meta name=robots content="noindex">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def confirmation(description: str, token: str, target: str, expires: str) -> str:
    """The page a link opens: what it will do, and the one button that does it."""
    return _page(
        "Nightshift: confirm",
        f"<p>This will <strong>{escape(description)}</strong>.</p>"
        f"<p>The link works once, until {escape(expires)}.</p>"
        '<form method=post action="">'
        f'<input type=hidden name=token value="{escape(token)}">'
        f'<input type=hidden name=target value="{escape(target)}">'
        "<button type=submit>Confirm</button></form>",
    )


def result(title: str, message: str) -> str:
    return _page(f"Nightshift: {title}", f"<p>{escape(message)}</p>")
