"""The redeploy function's pure core: ECR pushes and ECS deployment events as typed objects, the
planner (which services follow a push, and why), the lossless RegisterTaskDefinition request,
and the plan as people read it. No boto3, no clock, no environment."""

from typing import TYPE_CHECKING

from nightshift.lazy import lazy_exports

if TYPE_CHECKING:
    from nightshift.redeploy.events import (
        DeploymentStateChange,
        DeploymentStatus,
        IgnoredEvent,
        ImagePush,
        read_image_action,
    )
    from nightshift.redeploy.facts import (
        REDEPLOY_TAG,
        CircuitBreaker,
        ServiceFacts,
        TaskDefinitionFacts,
    )
    from nightshift.redeploy.image import EcrRegistry, ImageReference, InvalidImageReference
    from nightshift.redeploy.plan import (
        VERDICT_OUTCOME,
        ImageChange,
        RedeployPlan,
        RevisionPlan,
        ServiceDecision,
        Verdict,
        image_changes,
        plan_redeploy,
    )
    from nightshift.redeploy.policy import RELEASE_VERSIONS, RedeployPolicy, TagPattern
    from nightshift.redeploy.report import (
        PlanRow,
        plan_rows,
        render_plan,
        report_item,
        report_items,
    )
    from nightshift.redeploy.revision import (
        READ_ONLY_FIELDS,
        register_request,
        registered_as,
        unexpected_fields,
    )

# Each name is imported from its module when first asked for (nightshift.lazy): importing one
# module of the package (the actions function reads `policy` and `service`) loads that module and
# what it imports, not the whole core.
__getattr__ = lazy_exports(
    __name__,
    globals(),
    {
        "events": (
            "DeploymentStateChange",
            "DeploymentStatus",
            "IgnoredEvent",
            "ImagePush",
            "read_image_action",
        ),
        "facts": (
            "REDEPLOY_TAG",
            "CircuitBreaker",
            "ServiceFacts",
            "TaskDefinitionFacts",
        ),
        "image": (
            "EcrRegistry",
            "ImageReference",
            "InvalidImageReference",
        ),
        "plan": (
            "VERDICT_OUTCOME",
            "ImageChange",
            "RedeployPlan",
            "RevisionPlan",
            "ServiceDecision",
            "Verdict",
            "image_changes",
            "plan_redeploy",
        ),
        "policy": (
            "RELEASE_VERSIONS",
            "RedeployPolicy",
            "TagPattern",
        ),
        "report": (
            "PlanRow",
            "plan_rows",
            "render_plan",
            "report_item",
            "report_items",
        ),
        "revision": (
            "READ_ONLY_FIELDS",
            "register_request",
            "registered_as",
            "unexpected_fields",
        ),
    },
)

__all__ = [
    "READ_ONLY_FIELDS",
    "REDEPLOY_TAG",
    "RELEASE_VERSIONS",
    "VERDICT_OUTCOME",
    "CircuitBreaker",
    "DeploymentStateChange",
    "DeploymentStatus",
    "EcrRegistry",
    "IgnoredEvent",
    "ImageChange",
    "ImagePush",
    "ImageReference",
    "InvalidImageReference",
    "PlanRow",
    "RedeployPlan",
    "RedeployPolicy",
    "RevisionPlan",
    "ServiceDecision",
    "ServiceFacts",
    "TagPattern",
    "TaskDefinitionFacts",
    "Verdict",
    "image_changes",
    "plan_redeploy",
    "plan_rows",
    "read_image_action",
    "register_request",
    "registered_as",
    "render_plan",
    "report_item",
    "report_items",
    "unexpected_fields",
]
