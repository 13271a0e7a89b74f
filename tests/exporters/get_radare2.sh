#!/bin/sh
# CTest fixture setup for the exporter tests: builds (or finds cached) the
# radare2 they load scripts into, once, before any of them runs (build.sh has
# no lock; tests running in parallel must not build it twice). Where the
# workplace's ../shared is missing there is nothing to build: the tests then
# report themselves skipped.
BUILD="$1/../shared/tools/radare2/build.sh"
if [ ! -f "$BUILD" ]; then
  echo "radare2: $BUILD is missing; the radare2 export tests will be skipped"
  exit 0
fi
if ! bash "$BUILD"; then
  echo "radare2: the build failed; the radare2 export tests will be skipped"
fi
exit 0
