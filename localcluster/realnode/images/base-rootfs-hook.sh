#!/bin/sh
# mmdebstrap customize hook: lays Node.js, npm, corepack and yarn into the Debian root at the official
# node:*-bookworm-slim image's paths, with its `node` user and entrypoint, so FROM node:24-bookworm-slim builds as upstream.
# Arguments: ROOTFS NODE_DIST(bin/node, include/, share/) NPM_TGZ COREPACK_TGZ YARN_TGZ YARN_VERSION
set -eu
root="$1" dist="$2" npm="$3" corepack="$4" yarn="$5" yarn_version="$6"
mkdir -p "$root/usr/local/bin" "$root/usr/local/include" "$root/usr/local/share" \
  "$root/usr/local/lib/node_modules/npm" "$root/usr/local/lib/node_modules/corepack" "$root/opt/yarn-v$yarn_version"
install -m 0755 "$dist/bin/node" "$root/usr/local/bin/node"
if [ -d "$dist/include" ]; then cp -R "$dist/include/." "$root/usr/local/include/"; fi
if [ -d "$dist/share" ]; then cp -R "$dist/share/." "$root/usr/local/share/"; fi
tar -xzf "$npm" -C "$root/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
tar -xzf "$corepack" -C "$root/usr/local/lib/node_modules/corepack" --strip-components=1 --no-same-owner
tar -xzf "$yarn" -C "$root/opt/yarn-v$yarn_version" --strip-components=1 --no-same-owner
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
ln -sf ../lib/node_modules/corepack/dist/corepack.js "$root/usr/local/bin/corepack"
ln -sf "/opt/yarn-v$yarn_version/bin/yarn" "$root/usr/local/bin/yarn"
ln -sf "/opt/yarn-v$yarn_version/bin/yarnpkg" "$root/usr/local/bin/yarnpkg"
# The official image's entrypoint: runs `node ARGS` unless the first argument is a command.
cat > "$root/usr/local/bin/docker-entrypoint.sh" <<'ENTRYPOINT'
#!/bin/sh
set -e

# Run command with node if the first argument contains a "-" or is not a system command. The last
# part inside the "{}" is a workaround for the following bug in ash/dash:
# https://bugs.debian.org/cgi-bin/bugreport.cgi?bug=874264
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi

exec "$@"
ENTRYPOINT
chmod 0755 "$root/usr/local/bin/docker-entrypoint.sh"
chroot "$root" groupadd --gid 1000 node
chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
# The image's smoke test, as upstream's Dockerfile runs it.
chroot "$root" /usr/local/bin/node --version >/dev/null
chroot "$root" /usr/local/bin/npm --version >/dev/null
chroot "$root" /usr/local/bin/yarn --version >/dev/null
