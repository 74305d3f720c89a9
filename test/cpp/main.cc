// core_tests' entry point: starts one embedded interpreter for the whole binary (Python cannot be
// restarted after finalisation), then runs every test on this thread with the GIL held.
#include <gtest/gtest.h>

#include <memory>

#include "embedded_python.h"

// Sanitizer builds (NODE_ASGI_SANITIZE=address): CPython keeps process-lifetime allocations, so leak
// reports would be noise; stop at the first error.
#if defined(__SANITIZE_ADDRESS__)
extern "C" __attribute__((visibility("default"))) const char* __asan_default_options() {
  return "detect_leaks=0:abort_on_error=1";
}
extern "C" __attribute__((visibility("default"))) const char* __ubsan_default_options() {
  return "print_stacktrace=1:halt_on_error=1";
}
#endif

namespace {

class PythonEnvironment : public ::testing::Environment {
 public:
  // `_node_asgi` is already in the inittab (channel.cc's static initialiser): tests can import it.
  void SetUp() override { interpreter_ = node_asgi_test::StartEmbeddedPython(); }
  void TearDown() override { interpreter_.reset(); }

 private:
  std::unique_ptr<pybind11::scoped_interpreter> interpreter_;
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new PythonEnvironment);  // gtest owns it
  return RUN_ALL_TESTS();
}
