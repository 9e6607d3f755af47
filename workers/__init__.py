"""Celery workers: run automated steps and hand events on. Thin: ids in, one use case call."""
