"""Image validation as plain Python: no Celery, no database, no web framework.

The validation task calls :func:`check_image` on each image of a batch, then
:func:`find_duplicates` once over the whole job, and stores :func:`outcome` of each image's
issues (plus its duplicate code, if any) as the image's validation status.
"""

from worker.validate.checks import check_image
from worker.validate.duplicates import find_duplicates
from worker.validate.issues import ALL_CODES, DUPLICATES, WARNINGS, Outcome, outcome
from worker.validate.result import ImageCheck
from worker.validate.thresholds import LEVELS, Level, Thresholds

__all__ = [
    "ALL_CODES",
    "DUPLICATES",
    "LEVELS",
    "WARNINGS",
    "ImageCheck",
    "Level",
    "Outcome",
    "Thresholds",
    "check_image",
    "find_duplicates",
    "outcome",
]
