// Test support: the one embedded interpreter of the core_tests binary, and helpers for asserting on
// the exceptions the core throws (pybind11's py::type_error etc. all derive from std::runtime_error,
// so the tests compare the exact dynamic type, not just catchability).
#pragma once

#include <gtest/gtest.h>
#include <pybind11/embed.h>

#include <string>
#include <typeinfo>
#include <utility>

namespace node_asgi_test {

namespace py = pybind11;

// Evaluates a Python expression (messages, header lists...) in a fresh namespace with builtins.
inline py::object Eval(const char* expression) {
  py::dict globals;
  globals["__builtins__"] = py::module_::import("builtins");
  return py::eval(expression, globals);
}

// Runs `fn` and returns a failure unless it throws exactly `Expected` whose what() is `message`.
template <typename Expected, typename Fn>
::testing::AssertionResult ThrowsExactly(Fn&& fn, const std::string& message) {
  try {
    std::forward<Fn>(fn)();
  } catch (const std::exception& e) {
    if (typeid(e) != typeid(Expected))
      return ::testing::AssertionFailure() << "threw " << typeid(e).name() << " (\"" << e.what() << "\"), expected "
                                           << typeid(Expected).name();
    if (message != e.what())
      return ::testing::AssertionFailure() << "message was \"" << e.what() << "\", expected \"" << message << "\"";
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

// Runs `fn` and returns a failure unless it throws py::error_already_set for Python exception type
// `python_type` (e.g. PyExc_OverflowError). Clears the error.
template <typename Fn>
::testing::AssertionResult ThrowsPythonError(Fn&& fn, PyObject* python_type) {
  try {
    std::forward<Fn>(fn)();
  } catch (py::error_already_set& e) {
    if (!e.matches(python_type))
      return ::testing::AssertionFailure() << "raised " << e.what();
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "did not raise";
}

}  // namespace node_asgi_test
