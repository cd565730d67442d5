"""Console links: alarm pages, metric graphs in the console's jsurl notation, ECS deployments."""

from __future__ import annotations

import pytest

from nightshift.notify.console import alarm_url, ecs_deployments_url, jsurl, metrics_url


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (None, "~null"),
        (True, "~true"),
        (False, "~false"),
        (300, "~300"),
        (0.5, "~0.5"),
        ("AWS/ECS", "~'AWS*2fECS"),
        ("a b$c", "~'a*20b!c"),
        ("Grüße", "~'Gr*fc*dfe"),
        ("→", "~'**2192"),
        ([], "~(~)"),
        ([1, "x"], "~(~1~'x)"),
        ({"stat": "Sum", "period": 60}, "~(stat~'Sum~period~60)"),
    ],
)
def test_jsurl_encodes_like_the_cloudwatch_console(value: object, encoded: str) -> None:
    assert jsurl(value) == encoded


def test_alarm_url_uses_the_regional_console() -> None:
    assert alarm_url("us-east-1", "cpu") == (
        "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1"
        "#alarmsV2:alarm/cpu"
    )


def test_other_partitions_use_their_own_console() -> None:
    assert alarm_url("cn-north-1", "cpu", "aws-cn").startswith(
        "https://cn-north-1.console.amazonaws.cn/cloudwatch/home?region=cn-north-1"
    )


def test_metrics_url_puts_the_region_in_the_graph() -> None:
    url = metrics_url("eu-central-1", {"metrics": [["AWS/RDS", "CPUUtilization"]]})

    assert url.endswith(
        "#metricsV2?graph=~(metrics~(~(~'AWS*2fRDS~'CPUUtilization))~region~'eu-central-1)"
    )


def test_ecs_deployments_url_names_cluster_and_service() -> None:
    assert ecs_deployments_url("eu-central-1", "c1", "web") == (
        "https://eu-central-1.console.aws.amazon.com/ecs/v2/clusters/c1/services/web/deployments"
        "?region=eu-central-1"
    )
