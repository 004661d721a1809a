# The events service: one image for the web app (`events serve`), the job worker
# (`events worker`) and one-off commands (`events migrate`, `events user create`, ...).
# See docs/deployment.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Noto fonts (Arabic and other scripts) for the PDF tickets.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-core \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 events \
    && useradd --system --uid 10001 --gid events --home-dir /app --no-create-home --shell /usr/sbin/nologin events

WORKDIR /app

# Dependencies first, in their own layer, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The whole repo at /app: the app finds templates/, static/, locale/ and migrations/
# relative to the repo root, so the install must be editable.
COPY . .
RUN pip install -e . \
    && mkdir -p /app/var \
    && chown events:events /app/var

USER events

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["events", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
