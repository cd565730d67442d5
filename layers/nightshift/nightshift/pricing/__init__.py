"""What a parked resource costs per hour, from a small on-demand price table shipped with the
code (`prices.json`, its sources and date in docs/scheduler.md) and overridable in the policy's
`pricing` section. Pure: sizes and the table go in, a price (or why there is none) comes out."""

from nightshift.pricing.table import (
    DatabaseSize,
    FargateSize,
    HourlyPrice,
    InstanceSize,
    PriceTable,
    ResourceSize,
    hourly_price,
    shipped_table,
)

__all__ = [
    "DatabaseSize",
    "FargateSize",
    "HourlyPrice",
    "InstanceSize",
    "PriceTable",
    "ResourceSize",
    "hourly_price",
    "shipped_table",
]
