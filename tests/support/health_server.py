"""The canary tests' health endpoints are the local cloud's (localcloud.health_server), which the
bench's canary run uses too; imported here under the name the tests have always used."""

from localcloud.health_server import (
    DEGRADED_BODY,
    HEALTHY_BODY,
    LOOPBACK,
    Certificate,
    HealthServer,
    Reply,
    Request,
    openssl_available,
    refused_url,
    self_signed_certificate,
)

__all__ = [
    "DEGRADED_BODY",
    "HEALTHY_BODY",
    "LOOPBACK",
    "Certificate",
    "HealthServer",
    "Reply",
    "Request",
    "openssl_available",
    "refused_url",
    "self_signed_certificate",
]
