"""The price table and the one pure function that prices a resource's size with it.

A size whose region, engine, class or type is not in the table is *unpriced*, with the reason:
never guessed from a neighbour. Prices are on-demand, Linux, USD per hour; a stopped resource
still pays for its storage, so parking saves the compute only, which is what is priced here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class FargateSize:
    """`tasks` Fargate tasks of `vcpu` vCPU and `gib` GiB each (the task definition's cpu/1024
    and memory/1024), on `architecture` x86_64 or arm64."""

    region: str
    vcpu: float
    gib: float
    tasks: int
    architecture: str = "x86_64"


@dataclass(frozen=True)
class DatabaseSize:
    """An RDS DB instance: engine (`postgres`, `mysql`, ...), class, and Multi-AZ (a standby
    instance billed as much as the primary)."""

    region: str
    engine: str
    instance_class: str
    multi_az: bool = False


@dataclass(frozen=True)
class InstanceSize:
    """An EC2 instance of `instance_type` (Linux, shared tenancy)."""

    region: str
    instance_type: str


type ResourceSize = FargateSize | DatabaseSize | InstanceSize


@dataclass(frozen=True)
class HourlyPrice:
    """USD per hour, or None with the reason it is unpriced.

    >>> HourlyPrice(None, "db.x9.huge is not in the price table for eu-central-1").priced
    False
    """

    usd: float | None
    reason: str

    @property
    def priced(self) -> bool:
        return self.usd is not None

    def over(self, hours: float) -> float | None:
        """The cost of `hours` at this price (None when unpriced).

        >>> HourlyPrice(0.25, "").over(12.5)
        3.125
        """
        return None if self.usd is None else self.usd * hours


@dataclass(frozen=True)
class PriceTable:
    """Prices by region: `fargate.<architecture>.{vcpu_hour,gib_hour}`, `rds.<engine>.<class>`
    and `ec2.<type>`, as in `prices.json`; `source` says where they come from."""

    regions: Mapping[str, Mapping[str, Any]]
    source: str

    def overridden(self, override: Mapping[str, Any] | None) -> PriceTable:
        """This table with the policy's `pricing` section laid over it, price by price.

        >>> table = PriceTable({"eu-central-1": {"ec2": {"t4g.nano": 0.0048}}}, "shipped")
        >>> moved = table.overridden({"regions": {"eu-central-1": {"ec2": {"t4g.nano": 0.004}}}})
        >>> moved.regions["eu-central-1"]["ec2"]["t4g.nano"], moved.source
        (0.004, 'shipped; overridden by the policy')
        """
        if not override or not override.get("regions"):
            return self
        source = str(override.get("source") or "the policy")
        merged = _merge(self.regions, override["regions"])
        return PriceTable(MappingProxyType(merged), f"{self.source}; overridden by {source}")


def hourly_price(size: ResourceSize | None, table: PriceTable) -> HourlyPrice:
    """What the resource of `size` costs per hour while it runs, by the table.

    >>> table = PriceTable({"eu-central-1": {
    ...     "fargate": {"x86_64": {"vcpu_hour": 0.04656, "gib_hour": 0.00511}},
    ...     "rds": {"postgres": {"db.t4g.micro": 0.019}}}}, "test")
    >>> round(hourly_price(FargateSize("eu-central-1", 0.25, 0.5, 2), table).usd, 5)
    0.02839
    >>> hourly_price(DatabaseSize("eu-central-1", "postgres", "db.t4g.micro", True), table).usd
    0.038
    >>> hourly_price(InstanceSize("eu-central-1", "t4g.nano"), table).reason
    'unpriced: EC2 t4g.nano is not in the price table for eu-central-1'
    """
    if size is None:
        return HourlyPrice(None, "unpriced: its size is not known")
    region = table.regions.get(size.region)
    if region is None:
        return HourlyPrice(None, f"unpriced: no prices for region {size.region}")
    match size:
        case FargateSize():
            rates = region.get("fargate", {}).get(size.architecture)
            if rates is None:
                return _missing(f"Fargate {size.architecture}", size.region)
            each = size.vcpu * float(rates["vcpu_hour"]) + size.gib * float(rates["gib_hour"])
            return HourlyPrice(
                each * size.tasks,
                f"{size.tasks} x Fargate {_n(size.vcpu)} vCPU {_n(size.gib)} GiB "
                f"{size.architecture} in {size.region}",
            )
        case DatabaseSize():
            price = region.get("rds", {}).get(size.engine, {}).get(size.instance_class)
            if price is None:
                return _missing(f"RDS {size.engine} {size.instance_class}", size.region)
            copies = 2 if size.multi_az else 1
            az = " Multi-AZ" if size.multi_az else ""
            return HourlyPrice(
                float(price) * copies,
                f"RDS {size.engine} {size.instance_class}{az} in {size.region}",
            )
        case InstanceSize():
            price = region.get("ec2", {}).get(size.instance_type)
            if price is None:
                return _missing(f"EC2 {size.instance_type}", size.region)
            return HourlyPrice(float(price), f"EC2 {size.instance_type} in {size.region}")


@cache
def shipped_table() -> PriceTable:
    """The table shipped in the layer (`nightshift/pricing/prices.json`)."""
    text = (resources.files("nightshift.pricing") / "prices.json").read_text(encoding="utf-8")
    document = json.loads(text)
    return PriceTable(
        MappingProxyType(document["regions"]),
        f"AWS public on-demand prices as of {document['as_of']} (docs/scheduler.md)",
    )


def _missing(what: str, region: str) -> HourlyPrice:
    return HourlyPrice(None, f"unpriced: {what} is not in the price table for {region}")


def _n(value: float) -> str:
    return f"{value:g}"


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged
