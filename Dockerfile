# The source-jira connector image, the Airbyte way: built on Airbyte's python-connector-base (Python 3.11, user
# `airbyte`, /airbyte owned by it), `pip install .` in a build stage, an /entrypoint.sh running `source-jira "$@"`.
#   docker build -t source-jira-bulk:dev .
#   docker run --rm source-jira-bulk:dev spec
# The image name is this connector's own (metadata.yaml's dockerRepository), not that of Airbyte's official Jira source.
# BASE_IMAGE may be overridden for a local build (e.g. with a locally built base when no registry is reachable:
# see scripts/podman_base.sh); the default stays Airbyte's published base, pinned by digest (metadata.yaml's
# connectorBuildOptions.baseImage names the same image).
ARG BASE_IMAGE=docker.io/airbyte/python-connector-base:4.0.2@sha256:9fdb1888c4264cf6fee473649ecb593f56f58e5d0096a87ee0b231777e2e3e73

FROM ${BASE_IMAGE} AS builder
WORKDIR /airbyte/integration_code
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore
# Dependencies first, from pyproject.toml alone, so this layer stays cached while only the connector's code changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && python -m pip install -r /tmp/requirements.txt
COPY . ./
RUN python -m pip install --no-deps . && source-jira spec > /dev/null

FROM ${BASE_IMAGE}
ARG CONNECTOR_VERSION=dev
WORKDIR /airbyte/integration_code
COPY --from=builder /usr/local /usr/local
RUN printf '#!/bin/sh\nset -e\nexec source-jira "$@"\n' > /entrypoint.sh && chmod 755 /entrypoint.sh
USER airbyte
ENV AIRBYTE_ENTRYPOINT="/entrypoint.sh"
ENTRYPOINT ["/entrypoint.sh"]
LABEL io.airbyte.name=source-jira-bulk
LABEL io.airbyte.version=${CONNECTOR_VERSION}
