"""Links into the AWS console for what a notification is about.

The CloudWatch metrics page takes its graph in the console's own "jsurl" notation
(`~(metrics~(~(~'AWS*2fECS~'CPUUtilization...))~region~'eu-central-1)`), encoded here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import quote

_HOSTS = {
    "aws": "{region}.console.aws.amazon.com",
    "aws-cn": "{region}.console.amazonaws.cn",
    "aws-us-gov": "{region}.console.amazonaws-us-gov.com",
}

type Graph = str | int | float | bool | Sequence[Graph] | Mapping[str, Graph] | None


def console_host(region: str, partition: str | None = None) -> str:
    return _HOSTS.get(partition or "aws", _HOSTS["aws"]).format(region=region)


def alarm_url(region: str, name: str, partition: str | None = None) -> str:
    """The alarm's page in the CloudWatch console.

    >>> alarm_url("eu-central-1", "todoapp high/cpu")
    'https://eu-central-1.console.aws.amazon.com/cloudwatch/home?region=eu-central-1#alarmsV2:alarm/todoapp%20high%2Fcpu'
    """
    host = console_host(region, partition)
    return f"https://{host}/cloudwatch/home?region={region}#alarmsV2:alarm/{quote(name, safe='')}"


def metrics_url(region: str, graph: Mapping[str, Graph], partition: str | None = None) -> str:
    """A CloudWatch metrics graph; `graph` holds `metrics` and options such as `start`/`end`.

    >>> metrics_url("eu-central-1", {"metrics": [["AWS/ECS", "CPUUtilization"]]}).split("#")[1]
    "metricsV2?graph=~(metrics~(~(~'AWS*2fECS~'CPUUtilization))~region~'eu-central-1)"
    """
    host = console_host(region, partition)
    encoded = jsurl({**graph, "region": region})
    return f"https://{host}/cloudwatch/home?region={region}#metricsV2?graph={encoded}"


def ecs_deployments_url(
    region: str, cluster: str, service: str, partition: str | None = None
) -> str:
    host = console_host(region, partition)
    return (
        f"https://{host}/ecs/v2/clusters/{quote(cluster, safe='')}/services/"
        f"{quote(service, safe='')}/deployments?region={region}"
    )


_PLAIN = re.compile(r"[^\w\-.]", re.ASCII)


def jsurl(value: Graph) -> str:
    """Encode a value the way the CloudWatch console's URLs do (Sage's jsurl).

    >>> jsurl({"metrics": [["AWS/ECS", "CPUUtilization", {"stat": "Average", "period": 300}]]})
    "~(metrics~(~(~'AWS*2fECS~'CPUUtilization~(stat~'Average~period~300))))"
    """
    if value is None:
        return "~null"
    if isinstance(value, bool):
        return "~true" if value else "~false"
    if isinstance(value, int | float):
        return "~" + _escape(f"{value:g}" if isinstance(value, float) else str(value))
    if isinstance(value, str):
        return "~'" + _escape(value)
    if isinstance(value, Mapping):
        return "~(" + "~".join(_escape(key) + jsurl(item) for key, item in value.items()) + ")"
    return "~(" + ("".join(jsurl(item) for item in value) or "~") + ")"


def _escape(text: str) -> str:
    return _PLAIN.sub(_escape_char, text)


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    if char == "$":
        return "!"
    code = ord(char)
    return f"*{code:02x}" if code < 0x100 else f"**{code:04x}"
