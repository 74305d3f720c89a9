// The loop thread's life: GIL, runtime module, asyncio loop, exit report (see loop_thread.h).
#include "loop_thread.h"

#include <pthread.h>
#include <pybind11/embed.h>

#include <mutex>

namespace node_asgi {

namespace py = pybind11;

LoopThread::LoopThread(std::shared_ptr<Bridge> bridge, LoopConfig config)
    : bridge_(std::move(bridge)), config_(std::move(config)) {}

LoopThread::~LoopThread() {
  if (thread_.joinable()) thread_.detach();
}

void LoopThread::Start() { thread_ = std::thread(&LoopThread::Run, bridge_, config_); }

void LoopThread::Join() {
  if (thread_.joinable()) thread_.join();
}

PythonErrorInfo DescribePythonError(py::error_already_set& error) {
  PythonErrorInfo info;
  info.type = py::str(error.type().attr("__qualname__")).cast<std::string>();
  py::object module = error.type().attr("__module__");
  std::string module_name = py::str(module);
  if (module_name != "builtins") info.type = module_name + "." + info.type;
  info.message = py::str(error.value()).cast<std::string>();
  try {
    py::object format = py::module_::import("traceback").attr("format_exception");
    py::object trace = error.trace() ? error.trace() : py::none();
    py::list lines = format(error.type(), error.value(), trace);
    info.traceback = py::str("").attr("join")(lines).cast<std::string>();
  } catch (const std::exception&) {  // error_already_set, cast_error: keep what we have
    info.traceback = info.type + ": " + info.message + "\n";
  }
  return info;
}

// Serialises the runtime module's first load across loop threads (executing it releases the GIL
// during file reads, so another thread could otherwise see it half-loaded). Plain data only;
// always acquired with the GIL released, so GIL and mutex are taken in one order: mutex, then GIL.
static std::mutex g_runtime_load_mutex;

// Loads the runtime module from its file once per interpreter; later handlers reuse it. GIL held.
static py::module_ LoadRuntime(const std::string& path) {
  std::unique_lock<std::mutex> lock(g_runtime_load_mutex, std::defer_lock);
  Py_BEGIN_ALLOW_THREADS
  lock.lock();
  Py_END_ALLOW_THREADS
  py::dict modules = py::module_::import("sys").attr("modules");
  const char* name = "_node_asgi_runtime";
  if (modules.contains(name)) return modules[name];
  py::module_ util = py::module_::import("importlib.util");
  // The runtime is a package (src/python/node_asgi_runtime/): its submodules import relatively.
  py::object os_path = py::module_::import("os.path");
  py::list search;
  search.append(os_path.attr("dirname")(path));
  py::object spec = util.attr("spec_from_file_location")(name, path, py::arg("submodule_search_locations") = search);
  py::object module = util.attr("module_from_spec")(spec);
  modules[name] = module;
  try {
    spec.attr("loader").attr("exec_module")(module);
  } catch (...) {
    PyDict_DelItemString(modules.ptr(), name);
    PyErr_Clear();
    throw;
  }
  return module;
}

void LoopThread::Run(std::shared_ptr<Bridge> bridge, LoopConfig config) {
  ToJs exited(ToJs::Kind::kLoopExited);
  pthread_setname_np(pthread_self(), "node-asgi loop");  // for top -H, /proc and bench/threads.js
  PyGILState_STATE gil = PyGILState_Ensure();  // a fresh thread state, known to PyGILState_Check
  {
    try {
      py::module_::import("_node_asgi");  // registers Channel
      auto channel = std::make_shared<Channel>(bridge, config.channel);
      py::dict settings;
      settings["app"] = config.app;
      settings["app_dir"] = config.app_dir;
      settings["factory"] = config.factory;
      settings["lifespan"] = config.lifespan;
      settings["loop"] = config.loop;
      settings["extra"] = config.extra;
      LoadRuntime(config.runtime_path).attr("run")(channel, settings);
    } catch (py::error_already_set& e) {
      exited.error = std::make_unique<PythonErrorInfo>(DescribePythonError(e));
    } catch (const std::exception& e) {
      exited.error = std::make_unique<PythonErrorInfo>(PythonErrorInfo{"RuntimeError", e.what(), ""});
    }
  }
  PyGILState_Release(gil);
  bridge->PushToJs(std::move(exited));
}

}  // namespace node_asgi
