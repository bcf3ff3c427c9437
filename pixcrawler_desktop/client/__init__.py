"""The PixCrawler API client: plain Python (no Qt, no `worker`), shared by the GUI and the CLI.

Kept apart from both so that the desktop app can talk to a lab's server without carrying
the server's code, and so the GUI and CLI agree on one set of error classes and models.
"""

from pixcrawler_desktop.client.api import PixCrawlerClient, server_root
from pixcrawler_desktop.client.errors import (
    ApiError,
    AuthError,
    ConnectionLost,
    ForbiddenError,
    NotFoundError,
    RateLimited,
)
from pixcrawler_desktop.client.models import (
    FINISHED,
    JOB_STATUSES,
    VALIDATION_LEVELS,
    CancelResult,
    Chunk,
    Engine,
    Filters,
    Health,
    Image,
    Job,
    Page,
    Progress,
    StartResult,
    Tokens,
    User,
    ValidationStarted,
    ValidationSummary,
    can_cancel,
    can_delete,
    can_retry,
    can_start,
    can_validate,
)
from pixcrawler_desktop.client.tokens import (
    KeyringTokenStore,
    MemoryTokenStore,
    TokenStore,
    default_token_store,
)

__all__ = [
    "FINISHED",
    "JOB_STATUSES",
    "VALIDATION_LEVELS",
    "ApiError",
    "AuthError",
    "CancelResult",
    "Chunk",
    "ConnectionLost",
    "Engine",
    "Filters",
    "ForbiddenError",
    "Health",
    "Image",
    "Job",
    "KeyringTokenStore",
    "MemoryTokenStore",
    "NotFoundError",
    "Page",
    "PixCrawlerClient",
    "Progress",
    "RateLimited",
    "StartResult",
    "TokenStore",
    "Tokens",
    "User",
    "ValidationStarted",
    "ValidationSummary",
    "can_cancel",
    "can_delete",
    "can_retry",
    "can_start",
    "can_validate",
    "default_token_store",
    "server_root",
]
