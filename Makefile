# Pipeworks - build, grade and test the kit. `make help` lists every target.
#
# Everything is built out of tree under build/. Each lesson is built by its own
# sub-make (tests/grader/lesson.mk), so one lesson's compile error never stops another.

LESSONS := $(patsubst lessons/%.md,%,$(sort $(wildcard lessons/[0-9][0-9]-*.md)))
PYTHON ?= python3
GRADER := $(PYTHON) tests/grader/grade.py
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

all: $(BUILDS) selftest-build tools ## build every program and test, exercises and solutions

# Static pattern rules: plain pattern rules are never searched for .PHONY targets.
$(SHARED_BUILDS): shared.%: $(SUPPORT_LIB)
	+@$(LESSON_MAKE) LESSON=$* shared

$(EXERCISE_BUILDS): build.exercises.%: shared.%
	+@$(LESSON_MAKE) LESSON=$* SRC=exercises programs tests

$(SOLUTION_BUILDS): build.solutions.%: shared.%
	+@$(LESSON_MAKE) LESSON=$* SRC=solutions programs tests

# ---- the grader's own proof: deliberately bad programs run through the sandbox -------
PROOF := tests/support/proof
PROOF_PROGRAMS := $(patsubst $(PROOF)/%.cpp,$(SHARED)/proof/bin/%,$(filter-out %_test.cpp,$(wildcard $(PROOF)/*.cpp)))
PROOF_TEST := $(SHARED)/proof/sandbox_test

.PHONY: selftest-build
selftest-build: $(PROOF_PROGRAMS) $(PROOF_TEST)

$(SHARED)/proof/bin/%: $(PROOF)/%.cpp
	@mkdir -p $(@D)
	$(CXX) $(KIT_FLAGS) $< -o $@ -pthread

$(SHARED)/proof/%.o: $(PROOF)/%.cpp
	@mkdir -p $(@D)
	$(CXX) $(TEST_FLAGS) -c $< -o $@

$(PROOF_TEST): $(SHARED)/proof/sandbox_test.o $(SUPPORT_LIB)
	$(CXX) $^ $(GTEST_LIBS) -o $@

-include $(wildcard $(SHARED)/proof/*.d $(SHARED)/proof/bin/*.d)

# ---- pipemap: a live map of a program's processes and pipes (Linux) -----------------------
PIPEMAP := build/tools/pipemap
PIPEMAP_TEST := $(SHARED)/pipemap/pipemap_test
PIPEMAP_HELPERS := $(patsubst tests/pipemap/helpers/%.cpp,$(SHARED)/pipemap/bin/%,$(wildcard tests/pipemap/helpers/*.cpp))

SHAKE_LIB := $(SHARED)/shake/libpipeworks_shake.so

.PHONY: tools
tools: $(PIPEMAP) $(PIPEMAP_TEST) $(PIPEMAP_HELPERS) $(SHAKE_LIB)

# make grade SHAKE=N preloads this into the tests and the programs they run.
$(SHAKE_LIB): tests/support/shake/shake.cpp
	@mkdir -p $(@D)
	$(CXX) $(KIT_FLAGS) -fPIC -shared $< -o $@ -ldl

$(PIPEMAP): tests/pipemap/pipemap.cpp $(SUPPORT_LIB)
	@mkdir -p $(@D)
	$(CXX) $(TEST_FLAGS) $< $(SUPPORT_LIB) -o $@ -pthread

$(SHARED)/pipemap/pipemap_test.o: tests/pipemap/pipemap_test.cpp
	@mkdir -p $(@D)
	$(CXX) $(TEST_FLAGS) -c $< -o $@

$(PIPEMAP_TEST): $(SHARED)/pipemap/pipemap_test.o $(SUPPORT_LIB)
	$(CXX) $^ $(GTEST_LIBS) -o $@

$(SHARED)/pipemap/bin/%: tests/pipemap/helpers/%.cpp
	@mkdir -p $(@D)
	$(CXX) $(KIT_FLAGS) $< -o $@

-include $(wildcard build/tools/*.d $(SHARED)/pipemap/*.d $(SHARED)/pipemap/bin/*.d $(SHARED)/shake/*.d)

# ---- grading and testing --------------------------------------------------------
grade: ## grade your work in exercises/ (LESSON=01 for one lesson, SRC=solutions for the reference, SHAKE=N to shake out races)
	@$(if $(SHAKE),$(MAKE) --no-print-directory -s $(SHAKE_LIB) &&) $(GRADER) grade --src $(SRC) $(if $(LESSON),--lesson $(LESSON)) $(if $(SHAKE),--shake $(SHAKE))

test: ## the kit's own test: sandbox proof, solutions full marks, stubs below, mistakes caught, lessons and format checked
	@[ -d solutions ] || { $(GRADER) test; exit 2; }  # a student hand-out: say so, build nothing
	@$(MAKE) --no-print-directory selftest-build tools
	@$(GRADER) test $(if $(LESSON),--lesson $(LESSON))

# ---- in a class, and on your own -------------------------------------------------------
CLASSROOM := $(PYTHON) tests/grader/classroom.py
.PHONY: progress hint watch handout gradescope

progress: ## one screen: each lesson's state and points, and what to do next
	@$(CLASSROOM) progress

hint: ## the next hint for a lesson, one more each time (LESSON=02; RESET=1 starts over)
	@$(CLASSROOM) hint --lesson "$(LESSON)" $(if $(RESET),--reset)

watch: ## re-grade a lesson every time you save a file of it (LESSON=02)
	@$(CLASSROOM) watch --lesson "$(LESSON)"

handout: ## a student copy in DEST: no solutions, no mistake catalogue, fresh git history
	@$(CLASSROOM) handout --dest "$(DEST)"

gradescope: ## build/gradescope/autograder.zip, a Gradescope autograder for this kit
	@$(CLASSROOM) gradescope

diagrams: ## render diagrams/*.mmd to SVG (installs mermaid-cli from npm once; uses Debian's chromium)
	@$(PYTHON) tests/grader/diagrams.py render

format-check: ## check the kit's C++ (solutions/, tests/) against .clang-format; never exercises/
	@$(PYTHON) tests/grader/format_check.py

format: ## reformat the kit's C++ to .clang-format (never exercises/)
	@$(PYTHON) tests/grader/format_check.py --fix

.PHONY: format-check format compile_commands.json diagrams
compile_commands.json: ## write compile_commands.json for clangd, VS Code and CLion
	@$(PYTHON) tests/grader/compile_commands.py

# ---- lesson 06's measurements: pipes versus sockets, on this machine ------------------
.PHONY: bench
bench: build.solutions.06-pipe-vs-loopback ## measure pipe, socketpair, Unix socket, TCP (lesson 06): table, build/bench/results.json, chart.svg
	@$(PYTHON) tests/06-pipe-vs-loopback/bench.py

# ---- what a hang costs: grading time of each hanging mistake against the solution -------
.PHONY: grade-cost
grade-cost: selftest-build ## time grading each lesson's solution and each mistake that hangs or spins (LESSON=NN): build/grade-cost/
	@$(PYTHON) tests/grader/grade_cost.py $(if $(LESSON),--lesson $(LESSON))

clean: ## remove build/
	rm -rf build

help: ## list the targets
	@grep -hE '^[a-zA-Z_.-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | sort -u | \
	  awk -F'\t' '{ printf "  make %-22s %s\n", $$1, $$2 }'
