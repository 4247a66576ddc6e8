#!/bin/sh
# mmdebstrap customize hook: what Argo CD's own Dockerfile (v3.2.11) adds to its Debian base, at its paths:
# the argocd user (999), /home/argocd, /app/config with the ssh known-hosts link, and the hack/ wrappers.
# Arguments: ROOTFS ARGOCD_MODULE_DIR
set -eu
root="$1" module="$2"
chroot "$root" groupadd -g 999 argocd
chroot "$root" useradd -r -u 999 -g argocd argocd
mkdir -p "$root/home/argocd" "$root/app/config/ssh" "$root/app/config/tls" "$root/app/config/gpg/source" "$root/app/config/gpg/keys" "$root/etc/ssh"
chroot "$root" chown argocd:0 /home/argocd
chmod g=u "$root/home/argocd"
touch "$root/app/config/ssh/ssh_known_hosts"
ln -sf /app/config/ssh/ssh_known_hosts "$root/etc/ssh/ssh_known_hosts"
chroot "$root" chown argocd /app/config/gpg/keys
chmod 0700 "$root/app/config/gpg/keys"
for f in hack/gpg-wrapper.sh hack/git-verify-wrapper.sh entrypoint.sh; do install -m 0755 "$module/$f" "$root/usr/local/bin/$(basename "$f")"; done
ln -sf /usr/local/bin/entrypoint.sh "$root/usr/local/bin/uid_entrypoint.sh"
# The names Argo CD's multi-call binary answers to, linked as upstream's image links them (the binary is added after).
for n in server repo-server cmp-server application-controller dex notifications applicationset-controller k8s-auth commit-server; do
  ln -sf /usr/local/bin/argocd "$root/usr/local/bin/argocd-$n"
done
