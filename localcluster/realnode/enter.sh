#!/bin/sh
# Starts a node process inside the node: its cgroup first (teardown then finds every descendant, shims and
# containers included), then its network and mount namespaces. exec keeps the pid the harness recorded.
set -eu
cgroup="$1" netns="$2" mounts="$3"
shift 3
for h in /sys/fs/cgroup/*/; do
  if [ -d "$h$cgroup" ]; then echo $$ > "$h$cgroup/cgroup.procs"; fi
done
exec nsenter --net="$netns" --mount="$mounts" -- "$@"
