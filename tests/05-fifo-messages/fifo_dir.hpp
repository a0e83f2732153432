// fifo_dir.hpp - a fresh, private directory for one test's FIFOs, removed afterwards.
//
// Every test gets its own mkdtemp directory in the system's temporary folder ($TMPDIR,
// else P_tmpdir), so tests never see each other's FIFOs, and whatever a learner's
// server leaves behind is cleaned up by the test, not by the learner.
#pragma once

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace fifo_test {

class FifoDir {
  public:
    FifoDir() {
        const char* base = std::getenv("TMPDIR");
        if (!base || !*base) base = P_tmpdir;
        std::string pattern = std::string(base) + "/pipeworks-05-XXXXXX";
        std::vector<char> buf(pattern.begin(), pattern.end());
        buf.push_back('\0');
        if (mkdtemp(buf.data())) path_ = buf.data();
    }
    ~FifoDir() {
        if (path_.empty()) return;
        for (const auto& name : entries()) unlink((path_ + "/" + name).c_str());
        rmdir(path_.c_str());
    }
    FifoDir(const FifoDir&) = delete;
    FifoDir& operator=(const FifoDir&) = delete;

    const std::string& path() const { return path_; }
    bool ok() const { return !path_.empty(); }

    // The names in the directory, "." and ".." left out.
    std::vector<std::string> entries() const {
        std::vector<std::string> names;
        DIR* d = opendir(path_.c_str());
        if (!d) return names;
        while (dirent* e = readdir(d)) {
            std::string n = e->d_name;
            if (n != "." && n != "..") names.push_back(n);
        }
        closedir(d);
        return names;
    }

  private:
    std::string path_;
};

}  // namespace fifo_test
