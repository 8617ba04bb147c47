# MES platform image: one image for every service and the gateway (ARCHITECTURE.md §8).
# The command picks the process:  docker run IMAGE gateway | IMAGE resource_service | IMAGE mes ...
# Works with the classic builder and BuildKit (no BuildKit-only syntax).
ARG PYTHON_IMAGE=python:3.11-slim

# ---- build: the dependencies and the project installed into a virtualenv --------------
# The runtime stage copies the virtualenv alone: no wheels, caches, compilers or build tools in
# the image, and one layer for all of it.
FROM ${PYTHON_IMAGE} AS build
# a package index behind a proxy with its own CA: `--build-arg PIP_CERT=<bundle>` (and the bundle mounted)
ARG PIP_CERT
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src

# Dependencies first, from pyproject.toml alone, so a source change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.txt \
 && python -m venv /opt/mes \
 && /opt/mes/bin/pip install -q ${PIP_CERT:+--cert "$PIP_CERT"} -r requirements.txt

COPY . .
# the packages' own test suites are not needed to run (numpy's and scipy's alone are tens of MB)
RUN /opt/mes/bin/pip install -q ${PIP_CERT:+--cert "$PIP_CERT"} --no-deps . \
 && /opt/mes/bin/pip check \
 && /opt/mes/bin/pip uninstall -q -y pip \
 && find /opt/mes -depth -type d -name tests -path "*/site-packages/*" -exec rm -rf {} +

# ---- runtime ----------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="mes-platform" \
      org.opencontainers.image.description="MES services and gateway (nameko)" \
      org.opencontainers.image.licenses="Apache-2.0"

ENV PATH=/opt/mes/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MES_CONFIG=/app/config.yml \
    GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=8000 \
    AUTH_PRIVATE_KEY_FILE=/var/lib/mes/auth/signing_key.pem \
    AUTH_PUBLIC_KEY_FILE=/var/lib/mes/auth/signing_key.pub.pem \
    AUTH_SECRETS_KEY_FILE=/var/lib/mes/auth/secrets.key

# Pango and a font for WeasyPrint (the quality service's PDF reports)
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/*

RUN groupadd --system --gid 10001 mes \
 && useradd --system --uid 10001 --gid mes --create-home --home-dir /home/mes --shell /usr/sbin/nologin mes

COPY --from=build /opt/mes /opt/mes

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
