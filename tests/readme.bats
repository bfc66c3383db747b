#!/usr/bin/env bats
# The README's promises: every program it names exists and answers -h, every
# program is in its table, every page it links to exists, and its first command
# works as written.

load helpers

@test "README: every program in the table exists and answers -h" {
    mapfile -t named < <(sed -nE 's/^\| `([a-z-]+\/[a-z-]+)` \|.*/\1/p' "$ROOT/README.md")
    [ "${#named[@]}" -ge 1 ]
    for prog in "${named[@]}"; do
        run timeout 5 "$BIN/$prog" -h
        [ "$status" -eq 0 ] || { echo "$prog -h: status $status"; false; }
        [[ $output == "usage: $prog"* ]]
    done
}

@test "README: every program of the Makefile has a row in the table" {
    for prog in $(make -s -C "$ROOT" print-programs); do
        has -F "| \`$prog\` |" "$ROOT/README.md" || { echo "no README row for $prog"; false; }
    done
}

@test "README: every linked page exists" {
    mapfile -t links < <(grep -oE '\]\([^)#]+\)' "$ROOT/README.md" | sed -E 's/^\]\((.*)\)$/\1/' | grep -v '://')
    [ "${#links[@]}" -ge 1 ]
    for link in "${links[@]}"; do
        [ -e "$ROOT/$link" ] || { echo "README links to $link, which does not exist"; false; }
    done
}

@test "README: ./pipe/demo, the first command, runs and explains itself" {
    cd "$ROOT"
    run_t ./pipe/demo
    [ "$status" -eq 0 ]
    has '^\[parent [0-9]+\] received: message 1 of 5$' <<<"$output"
    has '^\[parent [0-9]+\] read\(\) returned 0: end of file' <<<"$output"
}
