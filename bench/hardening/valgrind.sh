#!/usr/bin/env bash
# valgrind memcheck over a representative subset of the tests (issue 5).
# Run from the repository root after `python setup.py build_ext --inplace`
# (or with the package installed). Reports invalid reads/writes, other
# memcheck errors, and definitely-lost blocks whose stack passes through
# pyad's C core (_pyad_cffi*.so); exits 1 if any is found.
#
#   bench/hardening/valgrind.sh [pytest args...]
set -uo pipefail
cd "$(dirname "$0")/../.."
log="${VALGRIND_LOG:-/tmp/pyad-valgrind.log}"
tests=(tests/test_hardening_alloc.py tests/test_hardening_badinput.py
       tests/test_fuzz_ops.py tests/test_fuzz_loader.py
       tests/test_hardening_threads.py tests/test_memory.py tests/test_gist.py
       tests/test_graphs.py)
PYTHONMALLOC=malloc PYAD_FUZZ_EXAMPLES="${PYAD_FUZZ_EXAMPLES:-40}" \
PYAD_THREAD_ITERS="${PYAD_THREAD_ITERS:-40}" \
valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite \
    --errors-for-leak-kinds=definite --num-callers=40 --log-file="$log" \
    python -m pytest -q -p no:cacheprovider "${tests[@]}" \
    -k "not training_loop_memory_is_flat" "$@"
status=$?
invalid=$(grep -cE "Invalid (read|write)" "$log")
errors=$(grep -E "ERROR SUMMARY" "$log" | tail -1)
definite=$(grep -E "definitely lost:" "$log" | tail -1)
# loss records that mention pyad's module or a csrc/ function
ours=$(awk '/are definitely lost in loss record/{rec=$0; keep=0; next}
            rec && /_pyad_cffi|pyad_|tape\.c|ops\.c|program\.c/ {keep=1}
            rec && /^==[0-9]+== $/ {if (keep) n++; rec=""; keep=0}
            END {print n+0}' "$log")
echo "valgrind: pytest exit $status"
echo "valgrind: invalid reads/writes: $invalid"
echo "valgrind: $errors"
echo "valgrind: $definite"
echo "valgrind: definitely-lost records from pyad's C core: $ours"
echo "valgrind: full log in $log"
[ "$invalid" -eq 0 ] && [ "$ours" -eq 0 ] && [ "$status" -eq 0 ]
