# Pipeworks - build, grade and test the kit. `make help` lists every target.
#
# Everything is built out of tree under build/. Each lesson is built by its own
# sub-make (tests/grader/lesson.mk), so one lesson's compile error never stops another.

LESSONS := $(patsubst lessons/%.md,%,$(sort $(wildcard lessons/[0-9][0-9]-*.md)))
PYTHON ?= python3
GRADER := $(PYTHON) tests/grader/grade.py
KIT_TEST := $(PYTHON) tests/kit/kit_test.py
LESSON_MAKE := $(MAKE) --no-print-directory -f tests/grader/lesson.mk
SRC ?= exercises
LESSON ?=

include tests/grader/common.mk

.DEFAULT_GOAL := all
.PHONY: all help grade test selftest catalogue clean

# ---- building -------------------------------------------------------------------
# One target per (tree, lesson): build.exercises.01-pipe-echo, build.solutions.01-pipe-echo.
# Each depends on shared.<lesson>, the test objects both trees link, built once.
EXERCISE_BUILDS := $(addprefix build.exercises.,$(LESSONS))
# A student hand-out has no solutions/ to build.
SOLUTION_BUILDS := $(if $(wildcard solutions),$(addprefix build.solutions.,$(LESSONS)))
SHARED_BUILDS := $(addprefix shared.,$(LESSONS))
BUILDS := $(EXERCISE_BUILDS) $(SOLUTION_BUILDS)
.PHONY: $(BUILDS) $(SHARED_BUILDS)

# make LESSON=01 builds one lesson only: its programs and tests from exercises/ and
# solutions/, its reference programs, pipemap and pipetrace, which its steps run.
# (LESSON as make grade takes it: 01, 1 or 01-pipe-echo.)
ONE_LESSON := $(if $(LESSON),$(filter $(LESSON) $(LESSON)-% 0$(LESSON)-%,$(LESSONS)))
ifneq ($(LESSON),)
all: $(if $(ONE_LESSON),$(filter %.$(ONE_LESSON),$(BUILDS)) reference.$(ONE_LESSON) $(TOOLS_BIN)/pipemap $(TOOLS_BIN)/pipetrace,no-such-lesson) ## build every program and test under build/ (LESSON=01: that lesson's only, its reference programs, pipemap and pipetrace)
else
all: $(BUILDS) selftest-build tools
endif
.PHONY: no-such-lesson
no-such-lesson:
	@echo "make: LESSON=$(LESSON) names no lesson; the lessons are: $(LESSONS)" >&2; exit 2

# Static pattern rules: plain pattern rules are never searched for .PHONY targets.
$(SHARED_BUILDS): shared.%: $(SUPPORT_LIB)
	+@$(LESSON_MAKE) LESSON=$* shared

$(EXERCISE_BUILDS): build.exercises.%: shared.%
	+@$(LESSON_MAKE) LESSON=$* SRC=exercises programs tests

# The solutions' objects, which their programs, their tests and the reference programs link:
# one sub-make compiles them before the others start, so two never write one file at once.
SOLUTION_OBJECTS := $(if $(wildcard solutions),$(addprefix objects.solutions.,$(LESSONS)))
.PHONY: $(SOLUTION_OBJECTS)
$(SOLUTION_OBJECTS): objects.solutions.%:
	+@$(LESSON_MAKE) LESSON=$* SRC=solutions objects

$(SOLUTION_BUILDS): build.solutions.%: shared.% objects.solutions.%
	+@$(LESSON_MAKE) LESSON=$* SRC=solutions programs tests

# ---- the reference programs each lesson's Step 0 runs: build/reference/NN-topic/bin/ ----
# In the kit they are built from solutions/; a student hand-out ships them prebuilt in
# reference/NN-topic/ (make handout builds them), and this installs them. The lessons
# use the same path in both.
REFERENCE_BUILDS := $(addprefix reference.,$(LESSONS))
.PHONY: reference $(REFERENCE_BUILDS)
reference: $(REFERENCE_BUILDS) ## the reference programs of every lesson, in build/reference/NN-topic/bin/ (each lesson's Step 0)

# Linked statically (and stripped) on Linux, so that a hand-out's prebuilt copies run on a student's
# machine whatever its C++ library version.
REFERENCE_LDFLAGS ?= $(if $(filter Linux,$(shell uname -s)),-static -s)
ifneq ($(wildcard solutions),)
$(REFERENCE_BUILDS): reference.%: objects.solutions.%
	+@$(LESSON_MAKE) LESSON=$* SRC=solutions PROGRAM_DIR=$(REFERENCE_OUT)/$*/bin PROGRAM_LDFLAGS="$(REFERENCE_LDFLAGS)" programs
else
$(REFERENCE_BUILDS): reference.%:
	@mkdir -p $(REFERENCE_OUT)/$*/bin && cp -p reference/$*/* $(REFERENCE_OUT)/$*/bin/
endif

# A program or test binary named by its path (make build/exercises/01-pipe-echo/bin/pipe_echo)
# is handed to its lesson's sub-make, which knows its sources: never a stale "Nothing to be
# done" after an edit. The first word of the path below the tree is the lesson.
.PHONY: FORCE
build/exercises/%: FORCE
	+@$(LESSON_MAKE) LESSON=$(firstword $(subst /, ,$*)) SRC=exercises $@
build/solutions/%: FORCE
	+@$(if $(wildcard solutions),$(LESSON_MAKE) LESSON=$(firstword $(subst /, ,$*)) SRC=solutions $@,echo "make: a hand-out has no solutions/" >&2; exit 2)

# ---- the grader's own proof: deliberately bad programs run through the sandbox -------
PROOF := tests/sandbox/proof
PROOF_PROGRAMS := $(patsubst $(PROOF)/%.cpp,$(SHARED)/proof/bin/%,$(filter-out %_test.cpp,$(wildcard $(PROOF)/*.cpp)))
PROOF_TEST := $(SHARED)/proof/sandbox_test

.PHONY: selftest-build
selftest-build: $(PROOF_PROGRAMS) $(PROOF_TEST)

$(SHARED)/proof/bin/%: $(PROOF)/%.cpp
	@mkdir -p $(@D)
	$(CXX) $(KIT_FLAGS) $(LINK_FLAGS) $< -o $@ -pthread

$(SHARED)/proof/%.o: $(PROOF)/%.cpp
	@mkdir -p $(@D)
	$(CXX) $(TEST_FLAGS) -c $< -o $@

$(PROOF_TEST): $(SHARED)/proof/sandbox_test.o $(SUPPORT_LIB)
	$(CXX) $(LINK_FLAGS) $^ $(GTEST_LIBS) -o $@

-include $(wildcard $(SHARED)/proof/*.d $(SHARED)/proof/bin/*.d)

# ---- learner tools with a proof of their own (Linux) ----------------------------------------
# pipemap: a live map of a program's processes and pipes. pipetrace: a program's story, call
# by call, as a timeline. Each is tests/tools/NAME/: NAME.cpp (built into build/tools/),
# NAME_test.cpp (its proof) and helpers/*.cpp (the small programs the proof runs it on).
PIPEMAP := $(TOOLS_BIN)/pipemap
PIPETRACE := $(TOOLS_BIN)/pipetrace

define learner_tool
$(1)_BUILT := $$(TOOLS_BIN)/$(1) $$(SHARED)/$(1)/$(1)_test \
    $$(patsubst tests/tools/$(1)/helpers/%.cpp,$$(SHARED)/$(1)/bin/%,$$(wildcard tests/tools/$(1)/helpers/*.cpp))

$$(SHARED)/$(1)/$(1).o: tests/tools/$(1)/$(1).cpp
	@mkdir -p $$(@D)
	$$(CXX) $$(TEST_FLAGS) -c $$< -o $$@

$$(TOOLS_BIN)/$(1): $$(SHARED)/$(1)/$(1).o $$(SUPPORT_LIB)
	@mkdir -p $$(@D)
	$$(CXX) $$(LINK_FLAGS) $$(SHARED)/$(1)/$(1).o $$(SUPPORT_LIB) -o $$@ -pthread

$$(SHARED)/$(1)/$(1)_test.o: tests/tools/$(1)/$(1)_test.cpp
	@mkdir -p $$(@D)
	$$(CXX) $$(TEST_FLAGS) -c $$< -o $$@

$$(SHARED)/$(1)/$(1)_test: $$(SHARED)/$(1)/$(1)_test.o $$(SUPPORT_LIB)
	$$(CXX) $$(LINK_FLAGS) $$^ $$(GTEST_LIBS) -o $$@

$$(SHARED)/$(1)/bin/%: tests/tools/$(1)/helpers/%.cpp
	@mkdir -p $$(@D)
	$$(CXX) $$(KIT_FLAGS) $$(LINK_FLAGS) $$< -o $$@

-include $$(wildcard $$(SHARED)/$(1)/*.d $$(SHARED)/$(1)/bin/*.d)
endef
$(foreach tool,pipemap pipetrace,$(eval $(call learner_tool,$(tool))))

.PHONY: tools pipetrace
tools: $(pipemap_BUILT) $(SHAKE_LIB) pipetrace
pipetrace: $(pipetrace_BUILT) ## build/tools/pipetrace -- PROGRAM [ARGS]: a timeline of every fork, pipe, dup2, close, read, write and wait (Linux)

# make grade SHAKE=N preloads this into the tests and the programs they run.
$(SHAKE_LIB): tests/tools/shake/shake.cpp
	@mkdir -p $(@D)
	$(CXX) $(KIT_FLAGS) $(LINK_FLAGS) -fPIC -shared $< -o $@ -ldl

-include $(wildcard $(SHARED)/shake/*.d)

# ---- grading and testing --------------------------------------------------------
grade: ## grade your work in exercises/ (LESSON=01 for one lesson, SRC=DIR for another tree, SHAKE=N to shake out races, TRACE=1 to say how a hang came about)
	@$(if $(SHAKE),$(MAKE) --no-print-directory -s $(SHAKE_LIB) &&) $(if $(TRACE),$(MAKE) --no-print-directory -s $(PIPETRACE) && PIPEWORKS_TRACE=$(CURDIR)/$(PIPETRACE)) $(GRADER) grade --src $(SRC) $(if $(LESSON),--lesson $(LESSON)) $(if $(SHAKE),--shake $(SHAKE))

test: ## the kit's own test: sandbox proof, solutions full marks, stubs below, mistakes caught, lessons and format checked; re-runs only checks whose inputs changed (AGAIN=1: all), ends with a table of phase times
	@[ -d solutions ] || { $(KIT_TEST); exit 2; }  # a student hand-out: say so, build nothing
	@$(MAKE) --no-print-directory selftest-build tools
	@$(KIT_TEST) $(if $(LESSON),--lesson $(LESSON)) $(if $(AGAIN),--again)

# ---- in a class, and on your own -------------------------------------------------------
CLASSROOM := $(PYTHON) tests/grader/classroom.py
.PHONY: progress hint watch handout gradescope class

progress: ## one screen: each lesson's state and points, and what to do next
	@$(CLASSROOM) progress

hint: ## the next hint for a lesson, one more each time (LESSON=02; RESET=1 starts over)
	@$(CLASSROOM) hint --lesson "$(LESSON)" $(if $(RESET),--reset)

watch: ## re-grade a lesson every time you save a file of it (LESSON=02)
	@$(CLASSROOM) watch --lesson "$(LESSON)"

handout: ## a student copy in DEST of the lessons in LESSONS (default all): no solutions, prebuilt reference programs; its Gradescope zip in ZIP (default build/gradescope/autograder.zip)
	@$(CLASSROOM) handout --dest "$(DEST)" $(if $(LESSONS),--lessons "$(LESSONS)") $(if $(ZIP),--zip "$(ZIP)")

gradescope: ## build/gradescope/autograder.zip for the lessons in LESSONS, with private-tests/ inside
	@$(CLASSROOM) gradescope $(if $(LESSONS),--lessons "$(LESSONS)")

class: ## grade every student repository in REPOS=dir, each in a fresh copy of this kit: build/class/class.csv and class.md
	@$(CLASSROOM) class --repos "$(REPOS)" $(if $(LESSONS),--lessons "$(LESSONS)")

diagrams: ## render diagrams/*.mmd to SVG (installs mermaid-cli from npm once; uses Debian's chromium)
	@$(PYTHON) tests/kit/diagrams.py render

format-check: ## check the kit's own C++ against .clang-format; never exercises/
	@$(PYTHON) tests/kit/format_check.py

format: ## reformat the kit's C++ to .clang-format (never exercises/)
	@$(PYTHON) tests/kit/format_check.py --fix

.PHONY: format-check format compile_commands.json diagrams
compile_commands.json: ## write compile_commands.json for clangd, VS Code and CLion
	@$(PYTHON) tests/kit/compile_commands.py

# ---- lesson 06's measurements: pipes versus sockets, on this machine ------------------
.PHONY: bench
bench: build.solutions.06-pipe-vs-loopback build.solutions.05-fifo-messages ## measure pipe, socketpair, Unix socket, TCP (lesson 06), Nagle, lesson 05's server: tables, build/bench/results.json, chart.svg
	@$(PYTHON) tests/tools/bench.py

# ---- what a hang costs: grading time of each hanging mistake against the solution -------
.PHONY: grade-cost
grade-cost: selftest-build ## time grading each lesson's solution and each mistake that hangs or spins (LESSON=NN): build/grade-cost/
	@$(PYTHON) tests/kit/grade_cost.py $(if $(LESSON),--lesson $(LESSON))

clean: ## remove build/
	rm -rf $(BUILD)

help: ## list the targets
	@grep -hE '^[a-zA-Z_.-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | sort -u | \
	  awk -F'\t' '{ printf "  make %-22s %s\n", $$1, $$2 }'
