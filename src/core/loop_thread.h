// The thread that owns one handler's asyncio loop: it takes the GIL, loads the Python runtime
// (the src/python/node_asgi_runtime package), and runs it until shutdown; whatever way it ends, it reports
// kLoopExited to JS so that no request is left waiting.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "bridge.h"
#include "channel.h"

namespace node_asgi {

struct LoopConfig {
  std::string runtime_path;  // absolute path of node_asgi_runtime/__init__.py
  std::string app;           // "module:attribute"
  std::string app_dir;       // put first on sys.path
  bool factory = false;
  std::string lifespan = "auto";  // auto | on | off
  std::string loop = "asyncio";   // asyncio | uvloop
  std::string extra;  // JSON object of the Python side's other settings (proxy headers, logging)
  ChannelOptions channel;
};

class LoopThread {
 public:
  LoopThread(std::shared_ptr<Bridge> bridge, LoopConfig config);
  ~LoopThread();  // detaches a thread that is still running (it holds its own references)

  void Start();
  // Waits for the thread to end. Call only after kLoopExited was seen (it is then ending).
  void Join();

 private:
  static void Run(std::shared_ptr<Bridge> bridge, LoopConfig config);

  std::shared_ptr<Bridge> bridge_;
  LoopConfig config_;
  std::thread thread_;
};

// Flattens the Python exception being handled (type, message, formatted traceback). GIL held.
PythonErrorInfo DescribePythonError(pybind11::error_already_set& error);

}  // namespace node_asgi
