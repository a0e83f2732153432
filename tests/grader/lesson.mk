# lesson.mk - builds ONE lesson from ONE source tree, so that a compile error in one
# lesson never stops another from being graded.
#
# Usage: make -f tests/grader/lesson.mk LESSON=01-pipe-echo SRC=exercises [OUT=build/exercises] GOAL
#   shared    the lesson's test objects (compiled once, whatever the tree)
#   objects   the objects of the lesson's programs
#   programs  $(OUT)/LESSON/bin/<program> for every program of the lesson (or PROGRAM_DIR/)
#   tests     $(OUT)/LESSON/test/LESSON_test, linked with the tree's files where the
#             lesson's tests are white-box
#
# Each lesson describes itself in tests/LESSON/lesson.mk:
#   PROGRAMS := pipe_echo                  programs the lesson builds
#   pipe_echo_SOURCES := pipe_echo.cpp     their files: from the tree (SRC/LESSON/), or
#                                          given/x.cpp from exercises/LESSON/given/
#   TEST_LINKS :=                          tree files linked into the test binary
#   TOOLS := list_fds                      grader helpers from tests/LESSON/tools/*.cpp,
#                                          built once into build/shared/tools/LESSON/

ifndef LESSON
$(error LESSON is not set, e.g. LESSON=01-pipe-echo)
endif
SRC ?= exercises
OUT ?= $(BUILD)/$(SRC)

include tests/grader/common.mk
include tests/$(LESSON)/lesson.mk

# Given files (headers, mains) live beside the learner's stub, where a learner may read
# them; every tree (exercises, solutions, a mistake, a variant) builds against these.
GIVEN := exercises/$(LESSON)/given
L := $(OUT)/$(LESSON)
# A learner's tree gets warnings without -Werror; the reference solutions get -Werror.
TREE_FLAGS := $(if $(filter solutions,$(SRC)),$(KIT_FLAGS),$(BASE_FLAGS)) -I$(SRC)/$(LESSON) -I$(GIVEN)

obj = $(patsubst %.cpp,$(L)/obj/%.o,$(1))
TEST_SOURCES := $(wildcard tests/$(LESSON)/*_test.cpp)
TEST_OBJECTS := $(patsubst tests/$(LESSON)/%.cpp,$(SHARED)/tests/$(LESSON)/%.o,$(TEST_SOURCES))
# An instructor's private tests (PRIVATE_TESTS=DIR, laid out as DIR/LESSON/*_test.cpp)
# are linked into the same binary, so they count like the kit's own.
ifneq ($(PRIVATE_TESTS),)
PRIVATE_SOURCES := $(wildcard $(PRIVATE_TESTS)/$(LESSON)/*_test.cpp)
TEST_OBJECTS += $(patsubst $(PRIVATE_TESTS)/$(LESSON)/%.cpp,$(SHARED)/private/$(LESSON)/%.o,$(PRIVATE_SOURCES))
endif
# With private tests the binary gets its own name, so that one built with them is never
# mistaken for one built without (make compares times, not the list of inputs).
TEST_BINARY := $(L)/test/$(LESSON)_test$(if $(PRIVATE_TESTS),_private)
# Where the programs go. make reference links the solutions' objects (in build/solutions)
# into build/reference/LESSON/bin instead, so they are compiled once for both.
PROGRAM_DIR := $(L)/bin
BINARIES := $(addprefix $(PROGRAM_DIR)/,$(PROGRAMS))
TOOL_BINARIES := $(addprefix $(SHARED)/tools/$(LESSON)/,$(TOOLS))

.PHONY: shared objects programs tests
shared: $(TEST_OBJECTS) $(SUPPORT_LIB) $(TOOL_BINARIES)
objects: $(call obj,$(sort $(foreach p,$(PROGRAMS),$($(p)_SOURCES))))
programs: $(BINARIES)
tests: $(TEST_BINARY)

# The learner's (or solution's) files.
$(L)/obj/%.o: $(SRC)/$(LESSON)/%.cpp
	@mkdir -p $(@D)
	$(CXX) $(TREE_FLAGS) -c $< -o $@

# Given files: headers and mains the learner does not edit.
$(L)/obj/given/%.o: $(GIVEN)/%.cpp
	@mkdir -p $(@D)
	$(CXX) $(TREE_FLAGS) -c $< -o $@

# The lesson's tests, compiled once and linked against each tree.
$(SHARED)/tests/$(LESSON)/%.o: tests/$(LESSON)/%.cpp
	@mkdir -p $(@D)
	$(CXX) $(TEST_FLAGS) -I$(GIVEN) -DPW_LESSON='"$(LESSON)"' -c $< -o $@

# The grader's own helper programs for this lesson (not the learner's), compiled apart from
# the link so that a compile cache (make test's) can keep the compile.
$(SHARED)/tools/$(LESSON)/obj/%.o: tests/$(LESSON)/tools/%.cpp
	@mkdir -p $(@D)
	$(CXX) $(KIT_FLAGS) -pthread -c $< -o $@

$(SHARED)/tools/$(LESSON)/%: $(SHARED)/tools/$(LESSON)/obj/%.o
	$(CXX) $(LINK_FLAGS) $< -o $@ -pthread

# Keep objects: they are prerequisites found through a pattern, which make would
# otherwise delete as intermediate files.
.SECONDARY:
# A half-written file (an interrupted link) must not look up to date next time.
.DELETE_ON_ERROR:
ifneq ($(PRIVATE_TESTS),)
$(SHARED)/private/$(LESSON)/%.o: $(PRIVATE_TESTS)/$(LESSON)/%.cpp
	@mkdir -p $(@D)
	$(CXX) $(TEST_FLAGS) -I$(GIVEN) -DPW_LESSON='"$(LESSON)"' -c $< -o $@
endif

.SECONDEXPANSION:
$(PROGRAM_DIR)/%: $$(call obj,$$($$*_SOURCES))
	@mkdir -p $(@D)
	$(CXX) $(BASE_FLAGS) $(LINK_FLAGS) $^ -o $@ -pthread $(PROGRAM_LDFLAGS)

$(TEST_BINARY): $(TEST_OBJECTS) $(call obj,$(TEST_LINKS)) $(SUPPORT_LIB)
	@mkdir -p $(@D)
	$(CXX) $(LINK_FLAGS) $(TEST_OBJECTS) $(call obj,$(TEST_LINKS)) $(SUPPORT_LIB) $(GTEST_LIBS) -o $@

-include $(wildcard $(L)/obj/*.d $(L)/obj/given/*.d $(SHARED)/tests/$(LESSON)/*.d $(SHARED)/tools/$(LESSON)/obj/*.d)
