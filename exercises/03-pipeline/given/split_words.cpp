// split_words.cpp - the word splitter of lesson 03 (see split_words.hpp for exactly
// what it supports). Given to you: you do not need to edit it.
#include "split_words.hpp"

bool split_words(const std::string& text, std::vector<std::string>& words) {
    words.clear();
    std::string word;
    bool in_word = false;  // true once a word has started, even an empty '' one
    std::size_t i = 0;
    while (i < text.size()) {
        char c = text[i++];
        if (c == ' ' || c == '\t' || c == '\n') {
            if (in_word) words.push_back(word);
            word.clear();
            in_word = false;
            continue;
        }
        in_word = true;
        if (c == '\'') {
            std::size_t end = text.find('\'', i);
            if (end == std::string::npos) {
                words.clear();  // a quote left open: no half-split command
                return false;
            }
            word += text.substr(i, end - i);
            i = end + 1;
        } else if (c == '"') {
            for (;;) {
                if (i == text.size()) {
                    words.clear();
                    return false;
                }
                char q = text[i++];
                if (q == '"') break;
                if (q == '\\' && i < text.size() && (text[i] == '"' || text[i] == '\\')) q = text[i++];
                word += q;
            }
        } else if (c == '\\') {
            if (i == text.size()) {
                words.clear();
                return false;
            }
            word += text[i++];
        } else {
            word += c;
        }
    }
    if (in_word) words.push_back(word);
    return true;
}

std::vector<char*> exec_args(std::vector<std::string>& words) {
    std::vector<char*> argv;
    for (std::string& w : words) argv.push_back(&w[0]);
    argv.push_back(nullptr);
    return argv;
}
