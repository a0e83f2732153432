// split_words.hpp - turns one command of the pipeline into words, as a shell would
// for simple cases. Given to you: the lesson is about the plumbing, not parsing.
//
// What is supported, exactly:
//   - spaces, tabs and newlines separate words;       grep -c  x     ->  grep | -c | x
//   - '...' keeps everything inside as it is;         grep 'a  b'    ->  grep | a  b
//   - "..." too, except that \" and \\ inside it
//     stand for " and \;                              echo "say \"hi\""  ->  echo | say "hi"
//   - outside quotes, \ keeps the next character
//     as it is (a space, a quote, a backslash);       echo a\ b      ->  echo | a b
//   - quoted and unquoted pieces that touch make
//     one word, and '' or "" is an empty word.        x'y z'"w"      ->  xy zw
// Everything else is an ordinary character: no $variables, no *globs, no ~, no
// redirections (<, >), no ; or &&. Those are a real shell's job.
#pragma once

#include <string>
#include <vector>

// Splits text into words. Returns false (words then holds nothing) when a quote is
// not closed, or when text ends in a lone backslash.
bool split_words(const std::string& text, std::vector<std::string>& words);

// The argument vector that execvp() wants: a pointer to each word, then a null
// pointer. The pointers point into words, so keep words alive (and unchanged) until
// execvp has been called:
//     std::vector<char*> argv = exec_args(words);
//     execvp(argv[0], argv.data());
std::vector<char*> exec_args(std::vector<std::string>& words);
