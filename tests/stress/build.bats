#!/usr/bin/env bats
# The build: clean, warning-free with gcc and clang, idempotent, and `make clean`
# takes away everything it made.  Each test builds a private copy of the tree, so
# the suite never disturbs the binaries the other tests run.

load ../helpers

copy_tree() {
    SRC="$BATS_TEST_TMPDIR/src"
    mkdir -p "$SRC"
    tar -C "$ROOT" --exclude=.git --exclude=./build -cf - . | tar -C "$SRC" -xf -
    make -s -C "$SRC" clean >/dev/null
    find "$SRC" | sort >"$BATS_TEST_TMPDIR/before"
}

# build_warning_free CC: a full build whose output has no warning at all.
build_warning_free() {
    copy_tree
    run timeout 300 make -C "$SRC" -j2 CC="$1"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output != *warning:* && $output != *error:* ]]
}

setup() {
    [[ -z ${IPC_DEMOS_BIN:-} ]] || skip "the build is tested once, not again under make check"
    export IPC_DEMO_DIR="$BATS_TEST_TMPDIR/ipc"
}

@test "gcc builds every program without a warning" {
    command -v gcc >/dev/null || skip "gcc is not installed"
    build_warning_free gcc
    for prog in $(make -s -C "$SRC" print-programs); do
        [ -x "$SRC/$prog" ]
    done
}

@test "clang builds every program without a warning" {
    command -v clang >/dev/null || skip "clang is not installed (apt-get install clang)"
    build_warning_free clang
}

@test "a second make has nothing to do" {
    copy_tree
    timeout 300 make -s -C "$SRC" -j2
    run timeout 60 make -C "$SRC"
    [ "$status" -eq 0 ]
    [[ $output == *"Nothing to be done"* ]]
    [[ $output != *" -o "* ]]
}

@test "a new compiler or new flags rebuild everything" {
    command -v clang >/dev/null || skip "clang is not installed (apt-get install clang)"
    copy_tree
    timeout 300 make -s -C "$SRC" -j2 CC=gcc
    run timeout 300 make -C "$SRC" -j2 CC=clang
    [ "$status" -eq 0 ]
    [ "$(grep -c '^clang .* -c -o build/obj/common/common.o' <<<"$output")" -eq 1 ]
    run timeout 300 make -C "$SRC" CC=clang
    [[ $output == *"Nothing to be done"* ]]
}

@test "make clean leaves nothing the build made" {
    copy_tree
    timeout 300 make -s -C "$SRC" -j2
    timeout 60 make -s -C "$SRC" clean
    find "$SRC" | sort >"$BATS_TEST_TMPDIR/after"
    diff "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
}

@test "every binary is ignored by git" {
    git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1 || skip "not a git checkout"
    for prog in $(make -s -C "$ROOT" print-programs); do
        git -C "$ROOT" check-ignore -q "$prog" || { echo "$prog is not in .gitignore"; false; }
    done
    git -C "$ROOT" check-ignore -q build/obj/x.o
}

@test "make help lists the targets" {
    run timeout 10 make -s -C "$ROOT" help
    [ "$status" -eq 0 ]
    for target in "make test" "make check" "make clean"; do
        [[ $output == *"$target"* ]]
    done
}
