# Sourced, not run: apt on one extra Debian suite without touching the
# machine's apt configuration. Everything apt keeps (a sources list naming
# the suite on the mirror this machine already uses, package lists, the
# download cache) lives in a directory of the cache; nothing is installed.
# Used by scripts/rig-qemu.sh (bookworm-backports) and
# scripts/kernel-source.sh (trixie-backports).
#
#   apt_private_init DIR SUITE   lists of SUITE's main into DIR; sets the
#                                array apt_private (apt-get/apt-cache
#                                options), apt_log and apt_mirror; 1 if the
#                                suite cannot be read (apt's words in apt_log)
#   apt_private_version PKG      PKG's newest version in SUITE, or nothing
#   apt_private_download DIR PKG=VERSION...
#                                the .debs into DIR; 1 on failure (apt_log)
#
# The caller defines die() (one line on stderr, exit 1) before sourcing.

apt_private_init() {
	local dir=$1 suite=$2
	# The mirror this machine already uses for bookworm's main component.
	apt_mirror=$(apt-cache policy 2>/dev/null | awk '$3 == "bookworm/main" { print $2; exit }')
	[ -n "$apt_mirror" ] ||
		die "no bookworm mirror in this machine's apt configuration (apt-cache policy)"
	rm -rf "$dir"
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/sources.list.d"
	printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
		"$apt_mirror" "$suite" >"$dir/sources.list"
	apt_private=(
		-o "Dir::Etc::SourceList=$dir/sources.list"
		-o "Dir::Etc::SourceParts=$dir/sources.list.d"
		-o "Dir::State::Lists=$dir/lists"
		-o "Dir::State::status=/dev/null"
		-o "Dir::Cache=$dir/cache"
		-o APT::Architectures::=amd64
	)
	# Root cannot hand the download directory to apt's _apt sandbox user.
	[ "$(id -u)" -ne 0 ] || apt_private+=(-o APT::Sandbox::User=root)
	apt_log=$dir/apt.log
	if ! apt-get -q "${apt_private[@]}" update >"$apt_log" 2>&1; then
		return 1
	fi
	# apt-get update exits 0 on some failures (a key it lacks, a host it cannot reach).
	! grep -q '^[WE]: .*\(Failed to fetch\|not signed\|NO_PUBKEY\|no longer signed\)' "$apt_log"
}

apt_private_version() {
	apt-cache "${apt_private[@]}" show "$1" 2>/dev/null | sed -n 's/^Version: //p' |
		sort -V | tail -n 1
}

apt_private_download() {
	local dir=$1
	shift
	mkdir -p "$dir"
	(cd "$dir" && apt-get -q "${apt_private[@]}" download "$@") >>"$apt_log" 2>&1
}
