# Lesson 03 builds one program: the learner's plumbing plus the given word splitter.
PROGRAMS := pipeline
pipeline_SOURCES := pipeline.cpp given/split_words.cpp
TEST_LINKS :=
TOOLS := fd_probe
