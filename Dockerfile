# One image for the vidmatte server and its Ray workers (docs/DEPLOY.md): CUDA runtime, Python
# 3.11 and the locked environment with the `ray` extra, the built editor, the shipped head.
#   docker build -t vidmatte .
FROM node:20-bookworm-slim AS editor
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04
ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_INSTALL_DIR=/opt/python
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=ghcr.io/astral-sh/uv:0.9 /uv /usr/local/bin/uv
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY models/ models/
COPY backend/ backend/
RUN uv python install 3.11 && uv sync --frozen --no-dev --extra ray
COPY --from=editor /src/frontend/dist frontend/dist
# The data dir and the SAM2 checkpoints live on volumes; workers need neither (the server sends
# them the weights and each job's video through Ray).
ENV PATH=/app/.venv/bin:$PATH \
    VIDMATTE_DATA_DIR=/data \
    VIDMATTE_CHECKPOINT_DIR=/checkpoints \
    VIDMATTE_HOST=0.0.0.0
VOLUME ["/data", "/checkpoints"]
EXPOSE 8000 6379
CMD ["vidmatte", "serve", "--host", "0.0.0.0"]
