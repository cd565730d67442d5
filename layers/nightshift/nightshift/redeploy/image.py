"""Container image references (`registry/repository[:tag][@digest]`) and ECR registry hosts.

Follows the Docker reference grammar: the first path component is a registry host only when it
contains a dot or a colon or is `localhost`; a tag follows the last colon of the last component;
a digest follows `@`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from nightshift.errors import NightshiftError

_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}")
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*")

# ECR registry hosts: public endpoints, FIPS endpoints and the dual-stack `on.aws` ones, in every
# partition. The account and region are read from the host, so any spelling matches a push.
_ECR_HOSTS = (
    re.compile(
        r"(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)"
        r"\.(?:amazonaws\.com(?:\.cn)?|c2s\.ic\.gov|sc2s\.sgov\.gov)"
    ),
    re.compile(r"(?P<account>\d{12})\.dkr-ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.on\.aws"),
)
# The DNS suffix of a region's partition; the first matching prefix wins, the empty one last.
_PARTITION_SUFFIX = (
    ("cn-", "amazonaws.com.cn"),
    ("us-isob-", "sc2s.sgov.gov"),
    ("us-iso-", "c2s.ic.gov"),
    ("", "amazonaws.com"),
)


class InvalidImageReference(NightshiftError, ValueError):
    """A string is not a container image reference."""


@dataclass(frozen=True)
class ImageReference:
    """A parsed image reference.

    >>> ref = ImageReference.parse("111122223333.dkr.ecr.eu-central-1.amazonaws.com/app:v1")
    >>> ref.repository, ref.tag, ref.digest
    ('app', 'v1', None)
    >>> str(ref.pinned("sha256:" + "0" * 64)).endswith("/app@sha256:" + "0" * 64)
    True
    """

    registry: str | None
    repository: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, text: str) -> ImageReference:
        name, at, digest = text.partition("@")
        if at and not _DIGEST.fullmatch(digest):
            raise InvalidImageReference(f"{text!r}: {digest!r} is not a digest")
        first, slash, rest = name.partition("/")
        if slash and ("." in first or ":" in first or first == "localhost"):
            registry: str | None = first
            path = rest
        else:
            registry, path = None, name
        head, colon, tag = path.rpartition(":")
        if colon and "/" not in tag:
            if not _TAG.fullmatch(tag):
                raise InvalidImageReference(f"{text!r}: {tag!r} is not a tag")
            path = head
        else:
            tag = ""
        if not path or not all(_COMPONENT.fullmatch(part) for part in path.split("/")):
            raise InvalidImageReference(f"{text!r}: {path!r} is not a repository name")
        return cls(registry=registry, repository=path, tag=tag or None, digest=digest or None)

    @property
    def ecr_registry(self) -> EcrRegistry | None:
        """The ECR registry this image lives in, or None for any other registry."""
        return EcrRegistry.from_host(self.registry) if self.registry else None

    def pinned(self, digest: str) -> ImageReference:
        """The same image addressed by digest alone: immutable, whatever happens to the tag."""
        return replace(self, tag=None, digest=digest)

    def __str__(self) -> str:
        text = f"{self.registry}/{self.repository}" if self.registry else self.repository
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


@dataclass(frozen=True)
class EcrRegistry:
    """A private ECR registry: one per account and region.

    >>> EcrRegistry("111122223333", "eu-central-1").host
    '111122223333.dkr.ecr.eu-central-1.amazonaws.com'
    >>> EcrRegistry.from_host("111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn")
    EcrRegistry(account='111122223333', region='cn-north-1')
    """

    account: str
    region: str

    @classmethod
    def from_host(cls, host: str) -> EcrRegistry | None:
        for pattern in _ECR_HOSTS:
            if found := pattern.fullmatch(host):
                return cls(account=found["account"], region=found["region"])
        return None

    @property
    def host(self) -> str:
        suffix = next(s for prefix, s in _PARTITION_SUFFIX if self.region.startswith(prefix))
        return f"{self.account}.dkr.ecr.{self.region}.{suffix}"

    def __str__(self) -> str:
        return self.host


def short_digest(digest: str) -> str:
    """`sha256:9b2f6c1d8e0a…` — enough to recognise a digest in a chat message."""
    algorithm, _, value = digest.partition(":")
    return f"{algorithm}:{value[:12]}" if value else digest
