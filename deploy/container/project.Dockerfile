# syntax=docker/dockerfile:1
# Your suite on top of the pytest-mp image: agents and the front end then share one
# checkout by construction (what docs/deploy.md's Kubernetes manifests expect).
# From your project's root:
#   docker build -f /path/to/pytest-mp/deploy/container/project.Dockerfile \
#       --build-arg PYTEST_MP_IMAGE=registry.example.com/pytest-mp:1 \
#       -t registry.example.com/my-project-tests:$(git rev-parse --short HEAD) .
# Your suite's own Debian dependencies: a RUN apt-get install as root before COPY.
ARG PYTEST_MP_IMAGE=pytest-mp:latest
FROM ${PYTEST_MP_IMAGE}
COPY --chown=mp:mp . /src/project
WORKDIR /src/project
