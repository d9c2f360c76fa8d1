# Helpers shared by the tools/ scripts (sourced, not run).

# configure_build DIR [MESON OPTIONS...]: sets up or refreshes a meson build folder.
configure_build() {
	local dir=$1 log
	shift
	mkdir -p .cache
	log=.cache/meson-setup-${dir//\//_}.log
	if [[ -f $dir/build.ninja ]]; then
		meson setup --reconfigure "$dir" "$@" >"$log" 2>&1
	else
		meson setup "$dir" "$@" >"$log" 2>&1
	fi || {
		cat "$log" >&2
		return 1
	}
}
