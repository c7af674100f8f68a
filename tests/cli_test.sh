#!/usr/bin/env bash
# CLI contract: exit codes 0/1/2, --help on every command, one-line errors on stderr.
set -u
BIN="$1"
fails=0; passes=0
check() {  # check NAME EXPECTED_RC CMD...
  local name="$1" want="$2"; shift 2
  "$@" >/tmp/cli_test_out.$$ 2>/tmp/cli_test_err.$$
  local rc=$?
  if [[ "$rc" == "$want" ]]; then passes=$((passes+1)); else
    fails=$((fails+1)); echo "FAIL $name: exit $rc, want $want"; cat /tmp/cli_test_err.$$; fi
}
check "no args is usage" 2 "$BIN"
check "--help" 0 "$BIN" --help
check "unknown command" 2 "$BIN" frobnicate
check "version" 0 "$BIN" version
# Every registered command answers --help with exit 0 and a usage line.
for cmd in $("$BIN" --help | awk '/^commands:/{on=1;next} on && /^  [a-z]/{print $1}'); do
  check "$cmd --help" 0 "$BIN" "$cmd" --help
  if ! grep -q "usage:" /tmp/cli_test_out.$$; then
    fails=$((fails+1)); echo "FAIL $cmd --help prints no usage line"; fi
  check "$cmd bad option" 2 "$BIN" "$cmd" --no-such-option
  lines=$(wc -l < /tmp/cli_test_err.$$)
  if [[ "$lines" -lt 1 ]]; then fails=$((fails+1)); echo "FAIL $cmd: no error on stderr"; fi
done
# Defaults shown in --help are the values used: no -1 sentinels, no build-machine paths.
check_defaults() {  # check_defaults NAME (help text in /tmp/cli_test_out.$$)
  if grep -E -n '\(default: (-1|/)' /tmp/cli_test_out.$$; then
    fails=$((fails+1)); echo "FAIL $1 --help shows a sentinel or an absolute path as a default"; fi
  if grep -E -n '\(default[^)]*\) \(default' /tmp/cli_test_out.$$; then
    fails=$((fails+1)); echo "FAIL $1 --help shows two defaults for one option"; fi
}
for cmd in $("$BIN" --help | awk '/^commands:/{on=1;next} on && /^  [a-z]/{print $1}'); do
  "$BIN" "$cmd" --help >/tmp/cli_test_out.$$ 2>/dev/null
  check_defaults "$cmd"
  for verb in $(awk '/^verbs:/{on=1;next} on && /^  [a-z]/{print $1}' /tmp/cli_test_out.$$); do
    "$BIN" "$cmd" "$verb" --help >/tmp/cli_test_out.$$ 2>/dev/null
    check_defaults "$cmd $verb"
  done
done
# Every command that reads trips takes a layout file (--layout).
for cmd in "data inspect" "data convert" "train eta" "eval eta" "train demand" "backtest demand" \
           forecast; do
  # shellcheck disable=SC2086
  if ! "$BIN" $cmd --help 2>/dev/null | grep -q -- '--layout'; then
    fails=$((fails+1)); echo "FAIL $cmd has no --layout"; else passes=$((passes+1)); fi
done
rm -f /tmp/cli_test_out.$$ /tmp/cli_test_err.$$
echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
