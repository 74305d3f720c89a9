// The test binary's interpreter is the one CMake found (not pyenv's), with a working stdlib.
#include <gtest/gtest.h>

#include <string>

#include "embedded_python.h"

namespace {

namespace py = pybind11;

TEST(EmbeddedPython, RunsTheInterpreterCMakeFound) {
  py::module_ sys = py::module_::import("sys");
  EXPECT_EQ(sys.attr("executable").cast<std::string>(), NODE_ASGI_PYTHON_EXECUTABLE);
  // The stdlib matches the linked libpython (a foreign prefix would still import, more or less).
  EXPECT_EQ(sys.attr("version").cast<std::string>(), std::string(Py_GetVersion()));
  std::string stdlib = py::module_::import("os").attr("__file__").cast<std::string>();
  std::string prefix = sys.attr("base_prefix").cast<std::string>();
  EXPECT_EQ(stdlib.rfind(prefix, 0), 0u) << stdlib << " is not under " << prefix;
}

TEST(EmbeddedPython, ImportsStdlibCExtensions) {
  // _asyncio and _contextvars are C extensions that need libpython's symbols.
  EXPECT_NO_THROW(py::module_::import("asyncio"));
  EXPECT_NO_THROW(py::module_::import("_contextvars"));
}

TEST(EmbeddedPython, IgnoresPythonEnvironmentVariables) {
  EXPECT_EQ(py::module_::import("sys").attr("flags").attr("ignore_environment").cast<int>(), 1);
}

}  // namespace
