# MES platform image: one image for every service and the gateway (ARCHITECTURE.md §8).
# The command picks the process:  docker run IMAGE gateway | IMAGE resource_service | IMAGE mes ...
# Works with the classic builder and BuildKit (no BuildKit-only syntax).
ARG PYTHON_IMAGE=python:3.11-slim

# ---- build: wheels for the dependencies (cached layer) and for the project ------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src

# Dependencies first, from pyproject.toml alone, so a source change does not rebuild them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.txt \
 && pip wheel --wheel-dir /wheels/deps -r requirements.txt \
 && cp requirements.txt /wheels/deps/requirements.txt

COPY . .
RUN pip wheel --no-deps --wheel-dir /wheels/app .

# ---- runtime ----------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="mes-platform" \
      org.opencontainers.image.description="MES services and gateway (nameko)" \
      org.opencontainers.image.licenses="Apache-2.0"

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MES_CONFIG=/app/config.yml \
    GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=8000 \
    AUTH_PRIVATE_KEY_FILE=/var/lib/mes/auth/signing_key.pem \
    AUTH_PUBLIC_KEY_FILE=/var/lib/mes/auth/signing_key.pub.pem \
    AUTH_SECRETS_KEY_FILE=/var/lib/mes/auth/secrets.key

# Pango and a font for WeasyPrint (the quality service's PDF reports)
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 mes \
 && useradd --system --uid 10001 --gid mes --create-home --home-dir /home/mes --shell /usr/sbin/nologin mes

COPY --from=build /wheels/deps /tmp/wheels/deps
RUN pip install --no-index --find-links /tmp/wheels/deps -r /tmp/wheels/deps/requirements.txt \
 && rm -rf /tmp/wheels/deps

COPY --from=build /wheels/app /tmp/wheels/app
RUN pip install --no-index --no-deps /tmp/wheels/app/*.whl \
 && pip check \
 && rm -rf /tmp/wheels

# Code and config stay owned by root: the service user can read, not change them.
WORKDIR /app
COPY config.yml /app/config.yml
COPY docker/entrypoint.sh /app/docker/entrypoint.sh
RUN chmod 0755 /app/docker/entrypoint.sh && chmod 0644 /app/config.yml \
 && mkdir -p /var/lib/mes/auth /var/lib/mes/auth-public && chown -R mes:mes /var/lib/mes && chmod 0700 /var/lib/mes/auth

USER mes
EXPOSE 8000

# Generic: checks whatever this container runs (gateway: GET /health; a service:
# `mes health <service>`). docker-compose.yml sets the timings per deployment.
HEALTHCHECK --interval=15s --timeout=10s --start-period=60s --retries=3 \
    CMD ["/app/docker/entrypoint.sh", "health"]

ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["gateway"]
