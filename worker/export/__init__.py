"""Dataset export: a job's images as an ImageFolder-style zip stream or folder, with manifests.

Plain Python (no FastAPI, no Celery): the API router checks the request and hands a plan and a
session to these modules, so the export can be tested and benchmarked on its own.
"""
