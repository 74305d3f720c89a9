// The embedded interpreter's one-time start (see python_runtime.h).
#include "python_runtime.h"

#include <Python.h>
#include <dlfcn.h>
#include <unistd.h>

#include <mutex>
#include <stdexcept>

namespace node_asgi {

namespace {

std::mutex g_init_mutex;          // guards the two values below (plain data, no Python objects)
bool g_initialized = false;
std::string g_program;            // program_name Python was started with

// Node loads addons with RTLD_LOCAL, so libpython's symbols are invisible to the C extensions
// Python imports later (_asyncio, _contextvars, uvloop...). Re-open it globally.
void PromoteLibpythonSymbols() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&Py_InitializeFromConfig), &info) == 0 || info.dli_fname == nullptr)
    throw std::runtime_error("node-asgi: cannot locate the loaded libpython (dladdr failed)");
  if (dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD) == nullptr)
    throw std::runtime_error(std::string("node-asgi: cannot make libpython's symbols global: ") + dlerror());
}

std::string StatusMessage(const PyStatus& status) {
  std::string message = "node-asgi: Python failed to initialise";
  if (status.func) message += std::string(" in ") + status.func;
  if (status.err_msg) message += std::string(": ") + status.err_msg;
  return message;
}

std::string ProgramFor(const InterpreterOptions& options) {
  if (options.virtualenv.empty()) return options.executable;
  std::string program = options.virtualenv + "/bin/python";
  if (access((options.virtualenv + "/pyvenv.cfg").c_str(), R_OK) != 0)
    throw std::runtime_error("node-asgi: option 'virtualenv' (" + options.virtualenv +
                             ") is not a virtualenv: it has no pyvenv.cfg");
  return program;
}

void Initialize(const std::string& program) {
  PromoteLibpythonSymbols();
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  config.install_signal_handlers = 0;  // Node owns SIGINT/SIGTERM
  config.parse_argv = 0;
  config.buffered_stdio = 0;  // process.exit() skips cleanup: never hold output in a buffer
  PyStatus status = PyConfig_SetBytesString(&config, &config.program_name, program.c_str());
  if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status)) throw std::runtime_error(StatusMessage(status));
  PyEval_SaveThread();  // release the GIL: the loop threads take it
}

}  // namespace

void EnsureInterpreter(const InterpreterOptions& options) {
  std::string program = ProgramFor(options);
  std::lock_guard<std::mutex> lock(g_init_mutex);
  if (g_initialized) {
    if (program != g_program)
      throw std::runtime_error("node-asgi: Python is already running in this process as " + g_program +
                               "; a handler cannot use " + program +
                               " (one interpreter per process: use the same 'virtualenv' for every handler)");
    return;
  }
  if (Py_IsInitialized())
    throw std::runtime_error("node-asgi: another module in this process already started Python");
  Initialize(program);
  g_initialized = true;
  g_program = program;
}

void ImportUvloopOnMainThread() {
  PyGILState_STATE gil = PyGILState_Ensure();
  PyObject* module = PyImport_ImportModule("uvloop");
  std::string error;
  if (module == nullptr) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject* text = value ? PyObject_Str(value) : nullptr;
    const char* utf8 = text ? PyUnicode_AsUTF8(text) : nullptr;
    error = "node-asgi: option loop: 'uvloop' needs the uvloop package (Debian: python3-uvloop): ";
    error += utf8 ? utf8 : "import failed";
    Py_XDECREF(text);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    PyErr_Clear();
  }
  Py_XDECREF(module);
  PyGILState_Release(gil);
  if (!error.empty()) throw std::runtime_error(error);
}

}  // namespace node_asgi
