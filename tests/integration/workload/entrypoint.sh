#!/bin/sh
# An image entrypoint as images have them: prepare, then become the app.
set -e
echo "entrypoint: starting $1 as $(id -u)"
exec "$@"
