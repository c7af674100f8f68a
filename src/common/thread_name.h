// Names the calling thread, so `top -H`, `perf`, gdb and /proc/PID/task/*/comm tell the server's
// threads apart ("http-io", "log-writer", …). Linux keeps 15 bytes; a longer name is cut there.
#pragma once

#include <string>

namespace bimride {

void NameThisThread(const std::string& name);

// The calling thread's name as the system has it ("" when it cannot be read).
std::string ThisThreadName();

}  // namespace bimride
