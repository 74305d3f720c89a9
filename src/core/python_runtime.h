// Starts the embedded CPython interpreter, once per process, the way an embedding host must:
// libpython's symbols made global for C extensions, no Python signal handlers, a chosen program.
#pragma once

#include <string>

namespace node_asgi {

struct InterpreterOptions {
  std::string executable;  // the interpreter the addon was built for (sets sys.executable)
  std::string virtualenv;  // optional: a venv dir; its bin/python becomes the program (pyvenv.cfg honoured)
  bool import_uvloop = false;
};

// Initialises Python if it is not yet running (any thread; the first caller's thread becomes
// Python's main thread) and returns with the GIL released. Throws std::runtime_error with a
// message naming what was wrong. Later calls check that their options agree with the first one.
void EnsureInterpreter(const InterpreterOptions& options);

// Imports uvloop on the calling thread, which must be Python's main thread (uvloop 0.17 requires
// its first import there). Takes and releases the GIL. Throws std::runtime_error.
void ImportUvloopOnMainThread();

}  // namespace node_asgi
