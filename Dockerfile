# Stash Sense daemon image.
#   CPU:  docker build -t stash-sense .
#   GPU:  docker build -t stash-sense:gpu \
#           --build-arg BASE=nvidia/cuda:13.0.1-cudnn-runtime-ubuntu24.04 --build-arg EXTRA=gpu .
# onnxruntime-gpu 1.27+ needs CUDA 13 and cuDNN 9 on the host driver (R580+); for a CUDA 12
# host pin onnxruntime-gpu==1.26.0. Never install the cpu and gpu extras together.
ARG BASE=python:3.11-slim
FROM ${BASE}

ARG EXTRA=cpu
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    STASH_SENSE_SERVER__HOST=0.0.0.0 \
    STASH_SENSE_PATHS__DATA_DIR=/data \
    STASH_SENSE_FACES__MODELS_DIR=/data/models \
    STASH_SENSE_FACES__DATABASE_DIR=/data/face-db

# The CUDA base images have no Python of their own; install one when it is missing.
RUN if ! command -v python3 >/dev/null; then \
      apt-get update && apt-get install -y --no-install-recommends python3 python3-venv \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
    && python3 -m venv /opt/venv

WORKDIR /app
COPY pyproject.toml README.md ./
COPY daemon ./daemon
# The plugin folder: the daemon serves it to Stash as a plugin source (/plugin/index.yml).
COPY plugin ./plugin
RUN pip install --no-cache-dir ".[${EXTRA}]" \
    && useradd --system --uid 1000 --home /data stash-sense \
    && mkdir -p /data && chown stash-sense /data

USER stash-sense
VOLUME ["/data"]
EXPOSE 6960
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:6960/api/v1/health', timeout=4)" || exit 1
ENTRYPOINT ["stash-sense"]
CMD ["run"]
