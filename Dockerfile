# The panel as one image; compose.yaml runs it as web, worker and beat.
# BASE: a Debian 12 image with Python 3.11 as python3 (the official one by default).
# wheels/: wheels made beforehand (`make wheels`); with OFFLINE=1 nothing else is fetched.
ARG BASE=python:3.11-slim-bookworm

FROM ${BASE} AS build
ARG OFFLINE=
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python3 -m venv /opt/panel
COPY pyproject.toml /src/
COPY wheels/ /wheels/
RUN python3 -c "import tomllib; print('\n'.join(tomllib.load(open('/src/pyproject.toml', 'rb'))['project']['dependencies']))" > /src/requirements.txt \
 && /opt/panel/bin/pip install ${OFFLINE:+--no-index} --find-links /wheels -r /src/requirements.txt
COPY . /app/
RUN cd /app && SECRET_KEY=static-files-only PANEL_ENCRYPTION_KEYS=unused PANEL_ENV=production \
    PANEL_DATA_DIR=/tmp/data PANEL_STATIC_ROOT=/opt/static \
    /opt/panel/bin/python manage.py collectstatic --noinput -v0 \
 && rm -rf /app/wheels && /opt/panel/bin/python -m compileall -q /app \
 && /opt/panel/bin/python -m pip uninstall -q -y pip setuptools

FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    git openssh-client postgresql-client ca-certificates \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data panel \
 && mkdir /data && chown panel:panel /data
COPY --from=build /opt/panel /opt/panel
COPY --from=build /opt/static /opt/static
COPY --from=build /app /app
ENV PATH=/opt/panel/bin:$PATH PYTHONPATH=/app PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    PANEL_ENV=production PANEL_DATA_DIR=/data PANEL_STATIC_ROOT=/opt/static HOME=/data
WORKDIR /app
USER panel
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/up', timeout=4)"]
# The web server, once the schema is current and the first admin exists (never before).
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py await_setup && exec gunicorn panel.asgi:application -k panel.serving.UvicornWorker -b 0.0.0.0:8000 -w 2 --graceful-timeout 20"]
