"""What a person does with a Nightshift message's actions, over real HTTP: find the signed links
(and Slack buttons) in the message the webhook receiver got, open a link (GET: the confirmation
page, which changes nothing), then press its Confirm button (POST of the page's form).

    (link,) = [l for l in links_in(message) if l.label == "Keep running 1 h"]
    clicked = click(link.url)
    clicked.page.status, clicked.done.status   # 200, 200

Used by the integration tests (tests/integration/test_actions.py) and `make demo`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import urllib3

HTTP = urllib3.PoolManager(retries=False)
# <url|label> in Slack mrkdwn, or a bare link in a field's text; a signed link has ?token=.
_SLACK_LINK = re.compile(r"<(?P<url>https?://[^|>\s]+\?token=[^|>\s]+)\|(?P<label>[^>]*)>")
_BARE_LINK = re.compile(r"(?P<url>https?://[^\s|<>\"\\]+\?token=[^\s|<>\"\\]+)")


@dataclass(frozen=True)
class ChatLink:
    label: str  # the link's text ("" for a bare URL)
    url: str


@dataclass(frozen=True)
class ChatButton:
    label: str
    token: str  # a Slack button's value: the signed token


@dataclass(frozen=True)
class Answer:
    status: int
    text: str


@dataclass(frozen=True)
class Page:
    """An opened link: its answer, and the confirmation form it shows (None: no form)."""

    url: str
    answer: Answer
    form: dict[str, str] | None

    def confirm(self) -> Answer:
        """Press the page's Confirm button: POST its form back to the page's address."""
        if self.form is None:
            raise ValueError(f"the page of {self.url} has no form ({self.answer.status})")
        split = urlsplit(self.url)
        posted = HTTP.request(
            "POST",
            urlunsplit((split.scheme, split.netloc, split.path or "/", "", "")),
            body=urlencode(self.form),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        return Answer(posted.status, posted.data.decode("utf-8", "replace"))


@dataclass(frozen=True)
class Click:
    page: Answer  # GET of the link
    done: Answer | None  # POST of the page's form (None: the page had no form)


def links_in(message: Any) -> list[ChatLink]:
    """Every signed link of a message (its JSON as posted), labelled ones first, in order."""
    text = json.dumps(message, ensure_ascii=False).replace("\\u0026", "&")
    labelled = [ChatLink(m["label"], m["url"]) for m in _SLACK_LINK.finditer(text)]
    seen = {link.url for link in labelled}
    bare = [ChatLink("", m["url"]) for m in _BARE_LINK.finditer(text) if m["url"] not in seen]
    return labelled + list({link.url: link for link in bare}.values())


def buttons_in(message: Any) -> list[ChatButton]:
    """The Slack buttons of a message (blocks of type `actions`)."""
    found = []
    for block in message.get("blocks", []) if isinstance(message, dict) else []:
        if block.get("type") == "actions":
            for element in block.get("elements", []):
                if element.get("type") == "button" and "value" in element:
                    found.append(ChatButton(element["text"]["text"], element["value"]))
    return found


def open_link(url: str) -> Page:
    """GET `url` as a browser does: the confirmation page (it changes nothing)."""
    got = HTTP.request("GET", url)
    answer = Answer(got.status, got.data.decode("utf-8", "replace"))
    form = _Form()
    form.feed(answer.text)
    # Nightshift's form posts back to the page's own address (action="").
    return Page(url, answer, dict(form.fields) if form.method == "post" else None)


def click(url: str) -> Click:
    """Open `url`, then press Confirm if the page offers it."""
    page = open_link(url)
    return Click(page.answer, page.confirm() if page.form is not None else None)


class _Form(HTMLParser):
    """The first form of a page: its method and fields."""

    def __init__(self) -> None:
        super().__init__()
        self.method: str | None = None
        self.fields: dict[str, str] = {}
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form" and self.method is None:
            self.method, self._inside = (found.get("method") or "get").lower(), True
        elif tag == "input" and self._inside and found.get("name"):
            self.fields[str(found["name"])] = found.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False
