# common.mk - build paths, compiler flags and the support library, shared by the top-level
# Makefile and by lesson.mk (the build of one lesson from one source tree).

# Build paths: the one place make names them (Python names them once, in tests/grader/grade.py).
BUILD := build
SHARED := $(BUILD)/shared
TOOLS_BIN := $(BUILD)/tools
REFERENCE_OUT := $(BUILD)/reference
SHAKE_LIB := $(SHARED)/shake/libpipeworks_shake.so

CXX ?= g++
# Set GTEST_INCLUDE when GoogleTest is not in a system include path (e.g. Homebrew).
GTEST_INCLUDE ?=
GTEST_LIBS ?= -lgtest -lgtest_main -pthread

# Warnings are errors in the kit's own code (solutions, tests, support). In a
# learner's tree they are shown but do not stop grading.
WARNINGS := -Wall -Wextra -Wpedantic
# Debug information, for gdb. make test builds each catalogue mistake and variant once, runs
# it once and never debugs it, so it passes DEBUG_INFO= (GCC makes the same code either way;
# the compile is a fifth faster).
DEBUG_INFO := -g
# Every link uses gold where it is installed: it links in half the time of the default
# linker, and grading a lesson links its test binary and each of its programs.
LINK_FLAGS := $(if $(shell command -v ld.gold 2>/dev/null),-fuse-ld=gold)
BASE_FLAGS := -std=c++17 -O2 $(DEBUG_INFO) $(WARNINGS) -MMD -MP
KIT_FLAGS := $(BASE_FLAGS) -Werror
# Test code (GoogleTest sources, the support library) is compiled for build speed, not run
# speed: full debug info of GoogleTest's templates made each test file 2.5-3x slower to
# compile. -g1 keeps line tables, so a crash in a test still has a usable backtrace.
TEST_FLAGS := -std=c++17 -O1 -g1 $(WARNINGS) -Werror -MMD -MP $(if $(GTEST_INCLUDE),-isystem $(GTEST_INCLUDE)) -Itests/sandbox

SUPPORT_SOURCES := $(wildcard tests/sandbox/*.cpp)
SUPPORT_OBJECTS := $(patsubst tests/sandbox/%.cpp,$(SHARED)/sandbox/%.o,$(SUPPORT_SOURCES))
SUPPORT_LIB := $(SHARED)/sandbox/libpipeworks_sandbox.a

$(SHARED)/sandbox/%.o: tests/sandbox/%.cpp
	@mkdir -p $(@D)
	$(CXX) $(TEST_FLAGS) -c $< -o $@

$(SUPPORT_LIB): $(SUPPORT_OBJECTS)
	@rm -f $@
	ar rcs $@ $^

-include $(SUPPORT_OBJECTS:.o=.d)
