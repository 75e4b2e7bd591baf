#!/usr/bin/env bash
# Builds the vpccni container image without any registry and writes it as an OCI archive,
# dist/image/vpccni-<version>.oci.tar (dist/ is gitignored); users push it to their own registry
# (skopeo copy oci-archive:... docker://...) or load it on a node (ctr images import).
#   - base: a Debian minbase root file system from this machine's apt sources (mmdebstrap),
#     cached in $VPCCNI_CACHE/image-base-<release>-<key>/, keyed by everything that shapes it;
#   - binaries: the vpccni CLI (agent included), compiled with Bun, and the CNI plugin, the Go
#     exec shim of scripts/build-cni.sh;
#   - layers: buildah runs the repository's Containerfile (FROM scratch, no RUN step).
# Reproducible: the same commit gives the same manifest digest (timestamps from the last commit
# unless SOURCE_DATE_EPOCH is set, sorted tar entries, byte-identical Bun and Go output). Needs root;
# installs the Debian packages it lacks with apt. Prints the reference, the manifest digest and
# the archive path.
source "$(dirname "$0")/build-common.sh"
cd "$(dirname "$0")/.."

DEBIAN_RELEASE=bookworm
# The base's own clock (mmdebstrap's SOURCE_DATE_EPOCH): bookworm's release day, 2023-06-10.
# Not the commit's time: /etc/shadow records it as every account's "last password change", so a
# per-commit clock would make the cached base useless for the next commit.
DEBIAN_RELEASE_EPOCH=1686355200
# What the image contract needs beyond minbase: `ip`. minbase already has sh (dash), install,
# mv and cat (coreutils) and nsenter (util-linux); smoke_test checks all of them.
BASE_PACKAGES=(iproute2)
# Files no container reads. Copyright files stay: the image redistributes these packages.
# gconv: glibc's iconv modules (Bun and iproute2 never convert charsets); zoneinfo/right: the
# leap-second zones, unused by glibc's default.
BASE_DPKG_EXCLUDES=(
  'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright'
  'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/info/*'
  'path-exclude=/usr/share/locale/*' 'path-exclude=/usr/share/lintian/*'
  'path-exclude=/usr/lib/*/gconv/*' 'path-exclude=/usr/share/zoneinfo/right/*'
)
BUN=node_modules/.bin/bun
OUT_DIR=dist/image

say() { printf '[image %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf '[image] error: %s\n' "$*" >&2; exit 1; }
# decimal MB, as bench/image.ts and the size goal count them
mb() { echo "$((($(stat -c %s "$1") + 500000) / 1000000))"; }

# mmdebstrap (base), buildah (layers), containernetworking-plugins (portmap), git (revision
# and timestamps); a fresh Debian machine lacks at least the first three.
need_packages() {
  local missing=()
  command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
  command -v buildah >/dev/null || missing+=(buildah)
  [ -x /usr/lib/cni/portmap ] || missing+=(containernetworking-plugins)
  command -v git >/dev/null || missing+=(git)
  [ ${#missing[@]} -eq 0 ] && return
  say "debian packages: installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The Debian archives for the release among this machine's apt sources, one "deb" line each
# (third-party repositories are left out: the base is Debian's alone). apt knows each list's
# origin only once it has fetched it, hence one `apt-get update` when none is found.
debian_sources() {
  local lines
  lines=$(known_debian_sources)
  if [ -z "$lines" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    lines=$(known_debian_sources)
  fi
  [ -n "$lines" ] || die "no Debian $DEBIAN_RELEASE archive in this machine's apt sources: add one"
  printf '%s\n' "$lines"
}

known_debian_sources() {
  apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' 'Created-By: Packages' \
    'Origin: Debian' "Architecture: $(dpkg --print-architecture)" |
    awk -v r="$DEBIAN_RELEASE" '$2 ~ "^" r "(-updates|-security)?$" { print "deb " $0 }' | sort -u
}

# The Debian root file system as a tarball, built once per recipe: the key hashes everything
# that shapes the bytes (release, clock, packages, options, sources, architecture, mmdebstrap's
# version). Sets BASE_TAR and BASE_NOTE.
build_base() {
  local sources=() opts=() key dir x
  mapfile -t sources < <(debian_sources)
  opts=(--variant=minbase --mode=root --format=tar "--include=${BASE_PACKAGES[*]}"
    # set up merged /usr directly instead of installing usrmerge, which pulls in perl (48 MB)
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr)
  for x in "${BASE_DPKG_EXCLUDES[@]}"; do opts+=("--dpkgopt=$x"); done
  # copied from the build machine; the container runtime mounts its own
  opts+=('--customize-hook=rm -f "$1/etc/hostname" "$1/etc/resolv.conf"')
  key=$(printf '%s\n' "$(mmdebstrap --version)" "$(dpkg --print-architecture)" "$DEBIAN_RELEASE" \
    "$DEBIAN_RELEASE_EPOCH" "${opts[@]}" "${sources[@]}" | sha256sum | cut -c1-16)
  dir=$VPCCNI_CACHE/image-base-$DEBIAN_RELEASE-$key
  BASE_TAR=$dir/rootfs.tar
  lock "$dir"
  if [ -s "$BASE_TAR" ]; then
    BASE_NOTE="cached"
  else
    say "base: mmdebstrap $DEBIAN_RELEASE minbase + ${BASE_PACKAGES[*]} from ${#sources[@]} Debian archives"
    printf '%s\n' "${opts[@]}" "${sources[@]}" >"$dir/recipe.txt"
    # Container runtimes mount their own /dev: device nodes in a layer only get in the way (and
    # a rootless unpack cannot create them).
    if ! SOURCE_DATE_EPOCH=$DEBIAN_RELEASE_EPOCH mmdebstrap "${opts[@]}" "$DEBIAN_RELEASE" - "${sources[@]}" \
      2>"$dir/mmdebstrap.log" | mmtarfilter --path-exclude='/dev/*' >"$BASE_TAR.tmp"; then
      tail -n 15 "$dir/mmdebstrap.log" >&2
      die "mmdebstrap failed; full log: $dir/mmdebstrap.log"
    fi
    mv -f "$BASE_TAR.tmp" "$BASE_TAR"
    BASE_NOTE="built"
  fi
  # what went in, for the record (the mirror decides the versions)
  tar -xOf "$BASE_TAR" ./var/lib/dpkg/status |
    awk '/^Package:/ { p = $2 } /^Version:/ { print p, $2 }' | sort >"$dir/packages.txt"
  exec 9>&- # release the lock: another build may use the base now
  say "base: $BASE_NOTE, $(wc -l <"$dir/packages.txt") packages, $(mb "$BASE_TAR") MB ($dir)"
}

# The build context: the base tarball and the three binaries under the names the Containerfile
# copies. Bun's output is byte-identical for the same sources and output file name.
build_context() {
  local ctx=$1
  mkdir -p "$ctx"
  ln "$BASE_TAR" "$ctx/rootfs.tar" 2>/dev/null || cp "$BASE_TAR" "$ctx/rootfs.tar"
  # The whole CLI compiles (the simulator's native resvg module is embedded), so the image has
  # every command; an agent-only entry would save 6 of 118 MB. Not --bytecode: it cannot
  # compile cli/main.ts's top-level await. Identifiers stay unminified for readable stack
  # traces. No .env / bunfig.toml autoload: the agent must not read files from its working
  # directory. No JIT policy: unlike the CNI plugin, the agent lives long enough to profit.
  "$BUN" build --compile --minify-syntax --minify-whitespace --no-compile-autoload-dotenv \
    --no-compile-autoload-bunfig cli/main.ts --outfile "$ctx/vpccni" >/dev/null
  VPCCNI_CNI_DIR="$WORK/cni" bash scripts/build-cni.sh >/dev/null
  mv -f "$WORK/cni/vpccni" "$ctx/vpccni-cni"
  install -m 0755 /usr/lib/cni/portmap "$ctx/portmap"
  say "binaries: vpccni $(mb "$ctx/vpccni") MB, vpccni-cni $(mb "$ctx/vpccni-cni") MB, portmap $(mb "$ctx/portmap") MB"
}

# buildah with its own storage, temp folder and policy under $WORK, so that nothing system-wide
# is written. vfs needs no mounts (works nested and leaves nothing mounted behind if the build
# is killed); overlay was faster here (build step 9 s against 13 s) and gave the same digest.
# containers/image keeps a blob-info cache in /var/lib/containers/cache when run as root, with
# no option to move it: each buildah runs in a private mount namespace where /var/lib is a
# folder of $WORK (buildah reads nothing else there); the namespace vanishes when buildah exits.
buildah_() {
  unshare --mount --propagation private -- sh -c 'mount --bind "$1" /var/lib && shift && exec "$@"' \
    sh "$WORK/var-lib" env CONTAINERS_STORAGE_CONF="$WORK/storage.conf" CONTAINERS_CONF="$WORK/containers.conf" \
    TMPDIR="$WORK/tmp" buildah "$@"
}

setup_buildah() {
  mkdir -p "$WORK/tmp" "$WORK/var-lib" "$WORK/net.d"
  # buildah's network backend takes a lock in its config folder at start-up, even with no RUN
  # step: that folder is the build's, not the host's /etc/cni/net.d
  printf '[network]\nnetwork_config_dir = "%s"\n' "$WORK/net.d" >"$WORK/containers.conf"
  printf '[storage]\ndriver = "vfs"\ngraphroot = "%s"\nrunroot = "%s"\n' "$WORK/storage" "$WORK/run" \
    >"$WORK/storage.conf"
  # only for writing the local OCI layout: no image is pulled, so no signature is checked
  printf '{"default": [{"type": "insecureAcceptAnything"}]}\n' >"$WORK/policy.json"
}

# The labels' source: VPCCNI_IMAGE_SOURCE, else the origin remote when it is a URL, else the
# repository the compiler's default image names (ghcr.io/<owner>/<name> lives at GitHub).
image_source() {
  local url
  url=${VPCCNI_IMAGE_SOURCE:-$(git config --get remote.origin.url || true)}
  case "$url" in
    https://*@*) url=https://${url#https://*@} ;; # never a token into a label
    https://*) ;;
    git@*:*) url=https://${url#git@} && url=${url/://} ;;
    *) case "$NAME" in ghcr.io/*) url=https://github.com/${NAME#ghcr.io/} && url=${url%:*} ;; *) url= ;; esac ;;
  esac
  printf '%s\n' "${url%.git}"
}

# The image, committed with the last commit's time on every file and in the config, then
# pushed to an OCI layout directory and packed with sorted entries and fixed owners and times
# (buildah's own oci-archive writer stamps the archive with the current time).
build_image() {
  local revision
  revision=$(git rev-parse HEAD)
  # an image from uncommitted changes must not pass for the commit; --no-optional-locks: other
  # engineers' git commands must not find the index locked by this build
  [ -z "$(git --no-optional-locks status --porcelain)" ] || revision=$revision-dirty
  buildah_ build --layers --pull=never --timestamp "$SOURCE_DATE_EPOCH" --identity-label=false \
    --build-arg "VERSION=$VERSION" --build-arg "REVISION=$revision" --build-arg "SOURCE=$(image_source)" \
    -f Containerfile -t "$NAME" "$WORK/context" >"$WORK/buildah.log" 2>&1 ||
    { tail -n 15 "$WORK/buildah.log" >&2; die "buildah build failed (Containerfile)"; }
  buildah_ push --quiet --signature-policy "$WORK/policy.json" "$NAME" "oci:$WORK/layout:$NAME" >/dev/null
  mkdir -p "$OUT_DIR"
  # a temporary name of this build's own: two builds at once must not write into one file
  tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
    --mode=u=rwX,go=rX --format=ustar -cf "$ARCHIVE.$$.tmp" -C "$WORK/layout" oci-layout index.json blobs
  mv -f "$ARCHIVE.$$.tmp" "$ARCHIVE"
  say "image: built with revision $revision, timestamp $SOURCE_DATE_EPOCH ($(date -u -d "@$SOURCE_DATE_EPOCH" +%FT%TZ))"
}

# Runs what the DaemonSet runs, in the image's own root file system: the agent's command, the
# install-cni step's tools, the CNI binaries' VERSION. Bun finds its embedded program through
# /proc/self/exe, so /proc is mounted, in a private mount namespace that vanishes afterwards.
smoke_test() {
  local ctr root
  ctr=$(buildah_ from --pull=never "$NAME")
  root=$(buildah_ mount "$ctr")
  unshare --mount --propagation private -- sh -eu -s "$root" "$VERSION" <<'EOF' ||
mount -t proc proc "$1/proc"
root=$1
in_image() { chroot "$root" env -i PATH=/usr/local/bin:/usr/sbin:/usr/bin "$@"; }
[ "$(in_image vpccni --version)" = "vpccni $2" ] || { echo "vpccni --version is not 'vpccni $2'"; exit 1; }
in_image vpccni agent --help | grep -q '^Usage: vpccni agent' || { echo "vpccni agent --help failed"; exit 1; }
for c in sh install mv cat ip nsenter; do
  in_image sh -c "command -v $c" >/dev/null || { echo "$c is missing"; exit 1; }
done
for p in /opt/vpccni/bin/vpccni-cni /opt/vpccni/bin/portmap; do
  in_image CNI_COMMAND=VERSION "$p" </dev/null | grep -q cniVersion || { echo "$p VERSION failed"; exit 1; }
done
EOF
    die "smoke test in the image failed (see the line above)"
  buildah_ rm "$ctr" >/dev/null
  say "smoke test: vpccni --version, agent --help, sh install mv cat ip nsenter, CNI VERSION of vpccni-cni and portmap"
}

main() {
  local start=$SECONDS
  [ "$(id -u)" = 0 ] || die "needs root (mmdebstrap and buildah write root-owned files): run as root"
  [ -x "$BUN" ] || die "$BUN is missing: run npm ci first"
  need_packages
  git rev-parse --git-dir >/dev/null 2>&1 || die "not a git checkout: the image's revision and timestamps come from git"
  VERSION=$("$BUN" -e 'console.log(require("./package.json").version)')
  # The name the generated DaemonSet asks for, so that an archive loaded on a node (ctr images
  # import) is found there without any registry.
  NAME=$("$BUN" -e 'import { DEFAULT_IMAGE } from "./compiler/version.ts"; console.log(DEFAULT_IMAGE)') ||
    die "cannot read DEFAULT_IMAGE from compiler/version.ts (the image's name)"
  SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
  ARCHIVE=$OUT_DIR/vpccni-$VERSION.oci.tar
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/vpccni-image.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
  build_base
  build_context "$WORK/context"
  setup_buildah
  build_image
  smoke_test
  say "done in $((SECONDS - start)) s (base $BASE_NOTE)"
  printf 'reference %s\nname      %s\ndigest    %s\narchive   %s\n' "vpccni:$VERSION" "$NAME" \
    "$("$BUN" -e 'console.log(require(process.argv[1]).manifests[0].digest)' "$WORK/layout/index.json")" "$ARCHIVE"
}
main "$@"
