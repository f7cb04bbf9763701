# Shipmate's image: installed from a wheelhouse, run as a non-root user.
#
#   python3 -m pip wheel --wheel-dir deploy/wheels '.[postgres]'   # with the image's Python minor version
#   docker build -t shipmate .
#
# BASE is any Debian-like image with python3 and its venv module: python:3.12-slim by default (build the
# wheelhouse with Python 3.12 then, e.g. in that image), or a base made offline (see tests/test_image.py).
ARG BASE=python:3.12-slim

FROM ${BASE} AS build
COPY deploy/wheels/ /wheels/
RUN python3 -m venv /opt/shipmate \
    && /opt/shipmate/bin/pip install --no-cache-dir --no-index --find-links /wheels 'shipmate[postgres]' \
    && find /opt/shipmate -name '__pycache__' -prune -exec rm -rf {} +

FROM ${BASE}
RUN useradd --system --uid 10001 --create-home --home-dir /home/shipmate shipmate
COPY --from=build /opt/shipmate /opt/shipmate
ENV PATH=/opt/shipmate/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SHIPMATE_METRICS_PORT=9100 \
    SHIPMATE_HEALTH_URL=http://127.0.0.1:9100/healthz
USER shipmate
WORKDIR /home/shipmate
EXPOSE 3000 9100
# /healthz on SHIPMATE_METRICS_PORT, for `socket` and `serve` alike (serve's public port 3000 has one too).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['SHIPMATE_HEALTH_URL'], timeout=4)"]
ENTRYPOINT ["shipmate"]
CMD ["socket"]
