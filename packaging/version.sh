#!/bin/sh
# The version of a build, semantic, from git (see Makefile and README):
#   at a tag vX.Y.Z, clean          X.Y.Z
#   anywhere else                   NEXT-dev+gHASH (.dirty when modified)
# NEXT is the CHANGELOG's next version (`<!-- next-version: X.Y.Z -->` under
# "## [Unreleased]") when it is above the last tag, else the last tag with
# its minor version raised; with no tag at all, the CHANGELOG's alone.
# NEXT-dev sorts after the last tag and before NEXT itself (SemVer, and
# dpkg/rpm once nfpm writes the pre-release as ~dev).
# Usage: packaging/version.sh [CHANGELOG]
set -eu
changelog=${1:-CHANGELOG.md}
tag=$(git describe --tags --abbrev=0 --match 'v[0-9]*.[0-9]*.[0-9]*' 2>/dev/null || true)
hash=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
dirty=
git diff --quiet HEAD -- 2>/dev/null || dirty=.dirty
if [ -n "$tag" ] && [ -z "$dirty" ] && [ "$(git rev-list -n1 "$tag")" = "$(git rev-parse HEAD)" ]; then
	echo "${tag#v}"
	exit 0
fi
next=$(sed -n 's/^<!-- next-version: \([0-9][0-9.]*\) -->$/\1/p' "$changelog" 2>/dev/null | head -n1)
if [ -n "$tag" ]; then
	last=${tag#v}
	bumped=$(echo "$last" | awk -F. '{ printf "%d.%d.0", $1, $2 + 1 }')
	# The CHANGELOG's wins only when it sorts after the last tag.
	if [ -z "$next" ] || [ "$(printf '%s\n%s\n' "$last" "$next" | sort -V | tail -n1)" = "$last" ]; then
		next=$bumped
	fi
fi
echo "${next:-0.1.0}-dev+g${hash}${dirty}"
