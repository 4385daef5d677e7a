#!/bin/bash
# Run the OCI runtime-tools validation suite against crt and compare the
# result with tests/conformance/expected-pass.txt (the ratchet).
#
# Usage: tests/conformance/run.sh [-o OUTDIR] [-t SECONDS] [CRT_BINARY] [TEST ...]
#   CRT_BINARY  default: build/src/crt (or $CRT_BINARY)
#   -o OUTDIR   results (default: a new /tmp/crt-conformance.XXXXXX)
#   -t SECONDS  per-program limit (default 30)
# The suite lives in ../shared/conformance/runtime-tools beside the repo
# (override with CRT_SHARED=/path/to/shared).
#
# crt runs with its own --root (a wrapper script in OUTDIR adds it): the
# suite calls the runtime without flags and force-deletes every container
# `list` shows that it did not create, so two runs sharing /run/crt (other
# users of the machine) would delete each other's containers.
#
# Exit status: 0 when every program listed in expected-pass.txt passed,
# 1 otherwise, 2 when the suite could not run. Programs that pass but are
# not listed are printed as a hint to extend the list.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
shared=${CRT_SHARED:-$(dirname "$repo")/shared}
suite=$shared/conformance/runtime-tools/run.sh
expected=$here/expected-pass.txt
outdir=''
limit=30

while getopts "o:t:h" opt; do
	case $opt in
	o) outdir=$OPTARG ;;
	t) limit=$OPTARG ;;
	*) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
crt=${1:-${CRT_BINARY:-$repo/build/src/crt}}
[ $# -gt 0 ] && shift

[ -x "$suite" ] || { echo "conformance: suite not found at $suite (set CRT_SHARED)" >&2; exit 2; }
[ -x "$crt" ] || { echo "conformance: crt not found at $crt (build it first)" >&2; exit 2; }
[ -n "$outdir" ] || outdir=$(mktemp -d /tmp/crt-conformance.XXXXXX)
mkdir -p "$outdir"

crt=$(realpath "$crt")
state=$(mktemp -d /run/crt-conformance.XXXXXX)
wrapper=$outdir/crt
printf '#!/bin/bash\nexec %q --root %q "$@"\n' "$crt" "$state" >"$wrapper"
chmod +x "$wrapper"
"$suite" -t "$limit" -o "$outdir" "$wrapper" "$@"
left=$(ls -A "$state" 2>/dev/null)
[ -n "$left" ] && echo "# containers left in $state: $left"
rm -rf "$state"
[ -f "$outdir/results.tsv" ] || { echo "conformance: no results.tsv in $outdir" >&2; exit 2; }

# verdict of each program that ran: "name VERDICT"
verdicts=$(awk -F'\t' 'NR > 1 { print $1, $2 }' "$outdir/results.tsv" | sort)
listed=$(sed 's/#.*//; s/[[:space:]]//g; /^$/d' "$expected" | sort -u)
ran=$(echo "$verdicts" | cut -d' ' -f1)

missing=() regressed=() new=()
for t in $listed; do
	v=$(echo "$verdicts" | awk -v t="$t" '$1 == t { print $2 }')
	if [ -z "$v" ]; then
		# Only complain about programs we were asked to run.
		if [ $# -eq 0 ] || [[ " $* " == *" $t "* ]]; then missing+=("$t"); fi
	elif [ "$v" != PASS ]; then
		regressed+=("$t:$v")
	fi
done
for t in $(echo "$verdicts" | awk '$2 == "PASS" { print $1 }'); do
	echo "$listed" | grep -qx "$t" || new+=("$t")
done

echo "# conformance results: $outdir"
[ ${#new[@]} -gt 0 ] && echo "# newly passing (add to tests/conformance/expected-pass.txt once seen twice): ${new[*]}"
[ ${#missing[@]} -gt 0 ] && echo "# expected but did not run: ${missing[*]}"
if [ ${#regressed[@]} -gt 0 ] || [ ${#missing[@]} -gt 0 ]; then
	echo "conformance: REGRESSION: expected to pass but did not: ${regressed[*]} ${missing[*]}"
	exit 1
fi
n_checked=0
for t in $listed; do echo "$ran" | grep -qx "$t" && n_checked=$((n_checked + 1)); done
echo "conformance: all $n_checked expected programs that ran passed ($(grep -c $'\tPASS\t' "$outdir/results.tsv") of $(echo "$ran" | grep -c .) passed in this run)"
