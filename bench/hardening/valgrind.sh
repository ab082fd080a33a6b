#!/usr/bin/env bash
# valgrind memcheck over a representative subset of the tests (issue 5).
# Run from the repository root after `python setup.py build_ext --inplace`
# (or with the package installed):
#
#   bench/hardening/valgrind.sh [pytest args...]
#
# Every memcheck error record (invalid read/write, use of uninitialised
# values, bad free, ...) and every definitely-lost block is attributed to
# pyad when one of its first three frames (the faulting or allocating
# code: e.g. malloc <- grow <- reserve_nodes) is in pyad's C core
# (_pyad_cffi*.so, csrc/). Records from the dynamic loader and from
# CPython (known valgrind false positives, objects CPython never frees)
# are counted separately. Exits 1 if pyad has any.
#
# Tests that need IEEE exception flags (errstate) are left out: valgrind
# does not emulate the floating-point status flags, so under valgrind
# fetestexcept() never reports an exception.
set -uo pipefail
cd "$(dirname "$0")/../.."
log="${VALGRIND_LOG:-/tmp/pyad-valgrind.log}"
# the interpreter itself, not a wrapper script (pyenv shims): valgrind
# does not follow an exec
py="${PYTHON:-$(python3 -c 'import sys; print(sys.executable)')}"
# VALGRIND_TESTS (space-separated) replaces the default subset
default_tests="tests/test_hardening_alloc.py tests/test_hardening_badinput.py tests/test_bad_input_table.py
       tests/test_fuzz_ops.py tests/test_fuzz_loader.py
       tests/test_hardening_threads.py tests/test_memory.py tests/test_gist.py
       tests/test_graphs.py"
read -r -a tests <<< "$(echo ${VALGRIND_TESTS:-$default_tests})"
PYTHONMALLOC=malloc PYAD_FUZZ_EXAMPLES="${PYAD_FUZZ_EXAMPLES:-40}" \
PYAD_THREAD_ITERS="${PYAD_THREAD_ITERS:-40}" \
valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite \
    --num-callers=40 --log-file="$log" \
    "$py" -m pytest -q -p no:cacheprovider "${tests[@]}" \
    -k "not training_loop_memory_is_flat and not errstate and not quiet_nan" "$@"
status=$?
grep -q "Command: $py" "$log" || { echo "valgrind: did not run $py" >&2; exit 2; }
# the main process (the log also holds short-lived forked children)
pid=$(grep -m1 "Command: $py" "$log" | sed 's/^==\([0-9]*\)==.*/\1/')
# One record per blank-line-separated block of the main process's log.
summary=$(awk -v pid="$pid" '
    function flush() {
        if (kind != "") {
            k = kind; sub(/^==[0-9]+== /, "", k)
            if (k ~ /are definitely lost/) k = "definitely lost (loss records)"
            if (ours) mine[k]++; else other[k]++
        }
        kind = ""; ours = 0; frame = 0
    }
    index($0, "==" pid "==") != 1 { next }
    /^==[0-9]+== $/ { flush(); next }
    kind == "" && /^==[0-9]+== (Invalid|Conditional|Use of|Mismatched|Syscall|Source and|Argument|Jump|[0-9,]+ bytes in [0-9,]+ blocks are definitely)/ { kind = $0 }
    kind != "" && /(at|by) 0x/ { frame++ }
    kind != "" && frame <= 3 && /_pyad_cffi|csrc\/|tape\.c|ops\.c|program\.c/ { ours = 1 }
    END { flush()
          for (k in mine) printf "pyad\t%d\t%s\n", mine[k], k
          for (k in other) printf "other\t%d\t%s\n", other[k], k }' "$log")
ours=$(printf "%s\n" "$summary" | awk -F'\t' '$1 == "pyad" {n += $2} END {print n + 0}')
echo "valgrind: pytest exit status $status"
grep -E "^==$pid== +(ERROR SUMMARY|definitely lost:|indirectly lost:|possibly lost:)" "$log" |
    sed 's/^==[0-9]*== */valgrind: /'
echo "valgrind: error and definitely-lost records by origin (origin, count, kind):"
printf "%s\n" "$summary" | sed 's/^/    /'
echo "valgrind: records involving pyad's C core: $ours"
echo "valgrind: full log in $log"
[ "$ours" -eq 0 ] && [ "$status" -eq 0 ]
