# ipc-demos: one non-recursive Makefile.  `make help` lists the targets.

# DWARF 4: the valgrind of `make check` (3.19) cannot read clang 14's DWARF 5.
CFLAGS   ?= -g -gdwarf-4 -O2
STD      := -std=c11 -D_XOPEN_SOURCE=700 -Wall -Wextra -Wpedantic
ifeq ($(WERROR),1)
STD      += -Werror
endif
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all
BATS     ?= bats
TEST_TIMEOUT ?= 300

# Every program, built next to its source (pipe/demo.c -> pipe/demo).
# tests/cli.bats reads this list (`make print-programs`), so no program escapes it.
PROGRAMS :=

# intro/: why IPC at all, the first lesson
PROGRAMS += intro/isolation

# pipe/: anonymous pipes
PROGRAMS += pipe/demo pipe/cases pipe/atomic pipe/pipeline

# fifo/: named pipes
PROGRAMS += fifo/server fifo/client

# shm/: System V shared memory
PROGRAMS += shm/reader shm/writer
EXTRA_shm/reader := shm/check
EXTRA_shm/writer := shm/check

# procpool/: a process pool
PROGRAMS += procpool/pool procpool/worker

# msgq/: System V message queues
PROGRAMS += msgq/server msgq/client
EXTRA_msgq/server := msgq/tick msgq/leftover
EXTRA_msgq/client := msgq/tick

# sem/: one race and many locks (System V and POSIX semaphores, a mutex); what
# each lock does when the process holding it dies
PROGRAMS += sem/race sem/holder-dies
EXTRA_sem/race := sem/leftover
EXTRA_sem/holder-dies := sem/leftover sem/named
# glibc 2.34 and later has sem_*() and pthread_*() in libc itself, so nothing
# more is needed to link them; -pthread still says "threads" to the compiler
# (_REENTRANT) and the linker, as POSIX asks of a program using <pthread.h>.
build/obj/sem/race.o build/check/obj/sem/race.o: CFLAGS += -pthread
build/obj/sem/holder-dies.o build/check/obj/sem/holder-dies.o: CFLAGS += -pthread
sem/race sem/holder-dies build/check/sem/race build/check/sem/holder-dies: LDFLAGS += -pthread

# bench/: measuring them all
PROGRAMS += bench/ipcbench
EXTRA_bench/ipcbench := bench/payload bench/transfer bench/shmbench bench/limits \
                        bench/linux bench/report bench/ring bench/leftover bench/posix
# posix-shm's semaphores (sem_init(..., 1, ...)): -pthread, as for sem/.
build/obj/bench/posix.o build/check/obj/bench/posix.o: CFLAGS += -pthread
bench/ipcbench build/check/bench/ipcbench: LDFLAGS += -pthread
# The benchmark makes and checks every byte it moves: at -O3 gcc vectorises those
# loops, so that the checking hides less of each mechanism's own cost.
build/obj/bench/payload.o build/check/obj/bench/payload.o: CFLAGS += -O3

# socket/: Unix domain sockets
PROGRAMS += socket/server socket/client socket/pass
EXTRA_socket/server := socket/sockfile
EXTRA_socket/client := socket/sockfile
EXTRA_socket/pass := socket/sockfile

# posix-mq/: POSIX message queues (priorities, a queue poll() can wait on)
PROGRAMS += posix-mq/server posix-mq/client
EXTRA_posix-mq/server := posix-mq/leftover
EXTRA_posix-mq/client := posix-mq/leftover
# posix-shm/: POSIX shared memory (shm_open, mmap), a ring synchronised by two
# process-shared semaphores inside it (-pthread: see sem/)
PROGRAMS += posix-shm/reader posix-shm/writer
EXTRA_posix-shm/reader := posix-shm/check posix-shm/leftover
EXTRA_posix-shm/writer := posix-shm/check
build/obj/posix-shm/%.o build/check/obj/posix-shm/%.o: CFLAGS += -pthread
posix-shm/reader posix-shm/writer build/check/posix-shm/reader build/check/posix-shm/writer: LDFLAGS += -pthread

# A program made of more than its own file and common/ names its other parts:
# EXTRA_shm/reader := shm/ring   (links build/obj/shm/ring.o too)

# Small programs the tests use to attack the lessons from outside (a scribbler on
# a segment, a liar on a socket...): built by `make test`, never installed.
TEST_PROGRAMS :=
TEST_PROGRAMS += tests/sem_plant
TEST_PROGRAMS += tests/socket-fds tests/socket-raw
TEST_PROGRAMS += tests/posix-mq-tool
TEST_PROGRAMS += tests/posix-shm-scribble
TEST_PROGRAMS += tests/bench-mq
TEST_PROGRAMS += tests/shm-scribble

OBJ      := build/obj
CHECKDIR := build/check
CHECK_PROGRAMS := $(addprefix $(CHECKDIR)/,$(PROGRAMS))

COMMON   := common/common common/objects

.PHONY: all test stress check bench clean help print-programs
all: $(PROGRAMS)

# build/flags holds the compiler and flags of the last build; it changes (and so
# everything is rebuilt) only when they do, e.g. `make` then `make CC=clang`.
FLAGS := $(CC) $(STD) $(CFLAGS) $(LDFLAGS) $(LDLIBS)
ifneq ($(filter-out clean help print-programs,$(or $(MAKECMDGOALS),all)),)
$(shell mkdir -p build && { [ "$$(cat build/flags 2>/dev/null)" = '$(FLAGS)' ] || echo '$(FLAGS)' >build/flags; })
endif

.SECONDEXPANSION:
$(PROGRAMS) $(TEST_PROGRAMS): %: $(OBJ)/%.o $$(addprefix $(OBJ)/,$$(addsuffix .o,$$(EXTRA_$$*))) $(addprefix $(OBJ)/,$(addsuffix .o,$(COMMON))) build/flags
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LDLIBS)

$(OBJ)/%.o: %.c build/flags
	@mkdir -p $(@D)
	$(CC) $(STD) $(CFLAGS) -MMD -MP -c -o $@ $<

# `make check` builds a second, sanitized set under build/check/, never mixed with
# the normal objects, and runs the whole suite against it.
$(CHECK_PROGRAMS): $(CHECKDIR)/%: $(CHECKDIR)/obj/%.o $$(addprefix $(CHECKDIR)/obj/,$$(addsuffix .o,$$(EXTRA_$$*))) $(addprefix $(CHECKDIR)/obj/,$(addsuffix .o,$(COMMON))) build/flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANITIZE) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LDLIBS)

$(CHECKDIR)/obj/%.o: %.c build/flags
	@mkdir -p $(@D)
	$(CC) $(STD) $(CFLAGS) $(SANITIZE) -MMD -MP -c -o $@ $<

-include $(wildcard $(OBJ)/*/*.d $(CHECKDIR)/obj/*/*.d)

# `make test`: the Bats files in tests/, four at a time (tests/run).
# `make stress`: the long cases, in tests/stress/ (also the docs' commands and
# the labs' graders).
BATS_CHECK = command -v $(BATS) >/dev/null 2>&1 || { \
	echo "make $@ needs bats (Bats 1.5 or later): apt-get install bats" >&2; exit 1; }

test: all $(TEST_PROGRAMS)
	@$(BATS_CHECK)
	BATS=$(BATS) TEST_TIMEOUT=$(TEST_TIMEOUT) tests/run

stress: all $(TEST_PROGRAMS)
	@$(BATS_CHECK)
	BATS=$(BATS) TEST_TIMEOUT=$(TEST_TIMEOUT) tests/run tests/stress/*.bats

# valgrind is looked for first: a missing tool is said before a long build.
check:
	@$(BATS_CHECK)
	@command -v valgrind >/dev/null 2>&1 || { \
	echo "make check needs valgrind: apt-get install valgrind" >&2; exit 1; }
	@$(MAKE) --no-print-directory all $(TEST_PROGRAMS) $(CHECK_PROGRAMS)
	IPC_DEMOS_BIN=$(CURDIR)/$(CHECKDIR) BATS=$(BATS) TEST_TIMEOUT=$(TEST_TIMEOUT) tests/run
	timeout $(TEST_TIMEOUT) tests/valgrind.sh

# The benchmark's default run: a minute or two; the report says how to read it.
bench: bench/ipcbench
	./bench/ipcbench

print-programs:
	@printf '%s\n' $(PROGRAMS)

clean:
	rm -rf build $(PROGRAMS) $(TEST_PROGRAMS)

help:
	@echo "make           build every program next to its source (WERROR=1 adds -Werror)"
	@echo "make test      build, then run the Bats suite in tests/, four files at a time"
	@echo "make stress    the long cases in tests/stress/ (builds, docs, labs' graders...)"
	@echo "make check     the suite again on sanitized builds, then valgrind on each demo"
	@echo "make bench     measure every IPC mechanism, data verified (bench/ipcbench)"
	@echo "make labs      build every lab's starter and solution (labs/)"
	@echo "make grade LAB=NAME [FILE=path]   grade one lab (default: its starter.c)"
	@echo "make clean     remove everything the build made"
	@echo "make help      this list"

# labs/: exercises, one directory each (README.md, starter.c, grade.bats,
# solution.c).  `make labs` builds every starter and solution beside its source
# (plain one-file C: no common/); `make grade LAB=NAME [FILE=path]` runs that
# lab's grader on FILE (default: its starter.c).  docs/labs.md: for instructors.
LAB_NAMES := eof pool-fds sigpipe fifo-hang shm-race lost-update leftovers
LAB_SOURCES := $(wildcard $(addsuffix /*.c,$(addprefix labs/,$(LAB_NAMES))))
LAB_PROGRAMS := $(LAB_SOURCES:.c=)

.PHONY: labs grade clean-labs
labs: $(LAB_PROGRAMS)

$(LAB_PROGRAMS): %: %.c build/flags
	$(CC) $(STD) $(CFLAGS) -pthread $(LDFLAGS) -o $@ $< $(LDLIBS)

grade:
	@case " $(LAB_NAMES) " in *" $(LAB) "*) ;; *) \
	echo "usage: make grade LAB=NAME [FILE=path], NAME one of: $(LAB_NAMES)" >&2; exit 2;; esac
	@$(BATS_CHECK)
	@FILE='$(abspath $(or $(FILE),labs/$(LAB)/starter.c))' $(BATS) labs/$(LAB)/grade.bats

clean: clean-labs
clean-labs:
	rm -f $(LAB_PROGRAMS)
