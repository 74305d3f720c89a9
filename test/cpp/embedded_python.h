// Starts the embedded interpreter for core_tests and core_bench the way the addon does: the
// interpreter CMake found as program_name (so sys.prefix and the stdlib are that Python's), no
// Python signal handlers, and isolated from PYTHON* variables and the user site, so that a pyenv or
// virtualenv in the caller's environment cannot swap the stdlib under the linked libpython.
#pragma once

#include <pybind11/embed.h>

#include <memory>
#include <stdexcept>
#include <string>

#ifndef NODE_ASGI_PYTHON_EXECUTABLE
#define NODE_ASGI_PYTHON_EXECUTABLE "/usr/bin/python3"
#endif

namespace node_asgi_test {

inline std::unique_ptr<pybind11::scoped_interpreter> StartEmbeddedPython() {
  PyConfig config;
  PyConfig_InitIsolatedConfig(&config);
  config.install_signal_handlers = 0;  // Node owns signals in the addon
  PyStatus status = PyConfig_SetBytesString(&config, &config.program_name, NODE_ASGI_PYTHON_EXECUTABLE);
  if (PyStatus_Exception(status)) {
    PyConfig_Clear(&config);
    throw std::runtime_error(std::string("cannot set program_name: ") + (status.err_msg ? status.err_msg : "?"));
  }
  // pybind11 takes ownership of (and clears) the config.
  return std::make_unique<pybind11::scoped_interpreter>(&config, 0, nullptr, /*add_program_dir_to_path=*/false);
}

}  // namespace node_asgi_test
