"""Image references parse as Docker does, and ECR registry hosts name their account and region."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nightshift.redeploy import EcrRegistry, ImageReference, InvalidImageReference
from nightshift.redeploy.image import short_digest

from .samples import HOST, PUSHED_DIGEST


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        (f"{HOST}/todoapp-backend:main-1", HOST, "todoapp-backend", "main-1", None),
        (f"{HOST}/todoapp-backend@{PUSHED_DIGEST}", HOST, "todoapp-backend", None, PUSHED_DIGEST),
        (f"{HOST}/todoapp-backend", HOST, "todoapp-backend", None, None),
        (f"{HOST}/team/api:v1.2.3@{PUSHED_DIGEST}", HOST, "team/api", "v1.2.3", PUSHED_DIGEST),
        ("nginx", None, "nginx", None, None),
        ("library/nginx:1.27", None, "library/nginx", "1.27", None),
        ("localhost/app:dev", "localhost", "app", "dev", None),
        ("localhost:5000/app", "localhost:5000", "app", None, None),
        ("registry.example.com:5000/a/b:c", "registry.example.com:5000", "a/b", "c", None),
        (
            "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
            "public.ecr.aws",
            "aws-observability/aws-for-fluent-bit",
            "stable",
            None,
        ),
    ],
)
def test_image_reference_parts_are_read_like_docker_reads_them(
    text: str, registry: str | None, repository: str, tag: str | None, digest: str | None
) -> None:
    reference = ImageReference.parse(text)

    assert (reference.registry, reference.repository, reference.tag, reference.digest) == (
        registry,
        repository,
        tag,
        digest,
    )
    assert str(reference) == text


@pytest.mark.parametrize(
    "text",
    ["", ":tag", f"{HOST}/", f"{HOST}/App:v1", f"{HOST}/app@sha256:xyz", f"{HOST}/app:-bad", "a b"],
)
def test_malformed_image_reference_is_refused(text: str) -> None:
    with pytest.raises(InvalidImageReference):
        ImageReference.parse(text)


def test_pinning_drops_the_tag_and_keeps_registry_and_repository() -> None:
    reference = ImageReference.parse(f"{HOST}/todoapp-backend:main-1")

    assert str(reference.pinned(PUSHED_DIGEST)) == f"{HOST}/todoapp-backend@{PUSHED_DIGEST}"


@pytest.mark.parametrize(
    ("host", "account", "region"),
    [
        ("111122223333.dkr.ecr.eu-central-1.amazonaws.com", "111122223333", "eu-central-1"),
        ("111122223333.dkr.ecr-fips.us-east-1.amazonaws.com", "111122223333", "us-east-1"),
        ("111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn", "111122223333", "cn-north-1"),
        ("111122223333.dkr-ecr.eu-central-1.on.aws", "111122223333", "eu-central-1"),
    ],
)
def test_ecr_host_names_account_and_region(host: str, account: str, region: str) -> None:
    assert EcrRegistry.from_host(host) == EcrRegistry(account, region)


@pytest.mark.parametrize(
    "host", ["public.ecr.aws", "docker.io", "111122223333.dkr.ecr.eu-central-1.example.com"]
)
def test_other_registries_are_not_ecr(host: str) -> None:
    assert EcrRegistry.from_host(host) is None


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("eu-central-1", "111122223333.dkr.ecr.eu-central-1.amazonaws.com"),
        ("cn-northwest-1", "111122223333.dkr.ecr.cn-northwest-1.amazonaws.com.cn"),
        ("us-iso-east-1", "111122223333.dkr.ecr.us-iso-east-1.c2s.ic.gov"),
    ],
)
def test_registry_host_follows_the_partition(region: str, host: str) -> None:
    assert EcrRegistry("111122223333", region).host == host
    assert EcrRegistry.from_host(host) == EcrRegistry("111122223333", region)


def test_short_digest_keeps_algorithm_and_twelve_characters() -> None:
    assert short_digest(PUSHED_DIGEST) == "sha256:9b2f6c1d8e0a"


_component = st.from_regex(r"[a-z0-9]{1,8}(?:[._-][a-z0-9]{1,8}){0,2}", fullmatch=True)
_references = st.builds(
    ImageReference,
    registry=st.sampled_from([None, HOST, "localhost:5000", "public.ecr.aws"]),
    repository=st.lists(_component, min_size=1, max_size=3).map("/".join),
    tag=st.none() | st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True),
    digest=st.none() | st.from_regex(r"sha256:[0-9a-f]{64}", fullmatch=True),
)


@settings(max_examples=200, deadline=None)
@given(_references)
def test_any_reference_survives_a_round_trip_through_text(reference: ImageReference) -> None:
    if reference.registry is None and "." in reference.repository.split("/")[0]:
        # Docker reads a first component with a dot as a registry host; so do we.
        reference = ImageReference(
            "localhost:5000", reference.repository, reference.tag, reference.digest
        )
    assert ImageReference.parse(str(reference)) == reference
