"""Image validation as plain Python: no Celery, no database, no web framework.

The validation task calls `checks.check_image` on each image of a batch, then
`duplicates.find_duplicates` once over the whole job, and stores `issues.outcome` of each
image's issues (plus its duplicate code, if any) as the image's validation status.

Import from the modules: the API needs only `thresholds` and `issues`, and this package must
not pull numpy and Pillow into it.
"""
