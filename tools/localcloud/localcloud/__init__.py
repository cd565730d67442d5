"""The Docker-free local cloud: the built SAM app deployed into a moto server, its functions run
under the Lambda Runtime Interface Emulator, events routed the way AWS routes them.

See docs/local-cloud.md. The public API:

- `MotoServer`, `Endpoint`, `local_cloud_endpoint` (localcloud.server)
- `InProcessCloud`, `CloudProcess`, `moto_clock`: the in-process mode for measurement, moto behind
  the throttle proxy (localcloud.inprocess, localcloud.throttle_proxy); imported from there
- `Project`, `ensure_stack`, `Stack` (localcloud.project, localcloud.stack)
- `invoke`, `InvokeResult` (localcloud.runtime)
- `Router` and its reports (localcloud.router)
- `WebhookReceiver`, `ScriptedResponse`, `format_chat_message` (localcloud.receiver)
- `seed_webhook_secrets` (localcloud.webhooks)
"""

from localcloud.errors import (
    BuildMissingError,
    LocalCloudError,
    RuntimeSetupError,
    ServerError,
    TemplateError,
)
from localcloud.project import Project
from localcloud.receiver import (
    ReceivedRequest,
    ScriptedResponse,
    WebhookReceiver,
    format_chat_message,
)
from localcloud.router import (
    BatchDelivery,
    Delivery,
    DrainReport,
    EventReport,
    PublishReport,
    Router,
    ScheduleReport,
)
from localcloud.runtime import InvokeResult, invoke
from localcloud.server import Endpoint, MotoServer, local_cloud_endpoint
from localcloud.stack import DEFAULT_STACK_NAME, Stack, ensure_stack
from localcloud.webhooks import seed_webhook_secrets

__all__ = [
    "DEFAULT_STACK_NAME",
    "BatchDelivery",
    "BuildMissingError",
    "Delivery",
    "DrainReport",
    "Endpoint",
    "EventReport",
    "InvokeResult",
    "LocalCloudError",
    "MotoServer",
    "Project",
    "PublishReport",
    "ReceivedRequest",
    "Router",
    "RuntimeSetupError",
    "ScheduleReport",
    "ScriptedResponse",
    "ServerError",
    "Stack",
    "TemplateError",
    "WebhookReceiver",
    "ensure_stack",
    "format_chat_message",
    "invoke",
    "local_cloud_endpoint",
    "seed_webhook_secrets",
]
