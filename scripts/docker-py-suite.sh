#!/bin/sh
# docker-py 5.0.3's own integration tests (the container-centred files) against one daemon, as
# issue 16 measures berth beside a private dockerd. Offline: the tests' images (alpine:3.10,
# alpine) must be on the daemon already; busybox retagged serves (docker tag busybox alpine:3.10).
#   scripts/docker-py-suite.sh DOCKER_PY_REPO DOCKER_HOST [LOG]
# DOCKER_PY_REPO: a git clone of github.com/docker/docker-py (its tag 5.0.3 is used); the SDK
# that runs is Debian's python3-docker 5.0.3.
set -eu
repo=$1 host=$2 log=${3:-/dev/stdout}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git -C "$repo" archive 5.0.3 tests pytest.ini | tar -x -C "$work"
# The suite turns warnings into errors; setuptools' StrictVersion deprecation is one.
sed -i "s/warnings.simplefilter('error')/warnings.simplefilter('ignore')/" "$work/tests/integration/conftest.py"
cd "$work"
DOCKER_HOST=$host timeout 1500 /usr/bin/python3 -m pytest -p no:cacheprovider -q -rf \
  tests/integration/api_container_test.py tests/integration/api_exec_test.py \
  tests/integration/models_containers_test.py tests/integration/api_volume_test.py \
  tests/integration/api_healthcheck_test.py tests/integration/regression_test.py \
  tests/integration/errors_test.py tests/integration/client_test.py > "$log" 2>&1 || true
tail -1 "$log"
