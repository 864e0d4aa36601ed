#!/bin/sh
# Runs the end-to-end suite alone (make e2e). Extra args go to pytest.
exec /usr/bin/python3 -m pytest tests/e2e -v -p no:cacheprovider "$@"
