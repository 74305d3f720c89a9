{
  # Builds the node-asgi addon: the Node-free core in src/core plus the JS-thread glue in src/.
  # The embedded Python is chosen by scripts/python-config.js ($NODE_ASGI_PYTHON, else /usr/bin/python3).
  "targets": [
    {
      "target_name": "node_asgi",
      "sources": [
        "src/addon.cc",
        "src/node_handler.cc",
        "src/js_events.cc",
        "src/core/bridge.cc",
        "src/core/conversions.cc",
        "src/core/scope.cc",
        "src/core/python_runtime.cc",
        "src/core/loop_thread.cc",
        "src/core/channel.cc",
        "src/core/channel_methods.cc",
        "src/native_server.cc",
        "src/server/request_parser.cc",
        "src/server/response_head.cc",
        "src/server/request_router.cc",
        "src/server/http_server.cc",
        "src/server/connection.cc",
        "src/server/sha1.cc",
        "src/server/ws_handshake.cc",
        "src/server/ws_frame.cc",
        "src/server/ws_deflate.cc",
        "src/server/llhttp/llhttp_unit.c",
        "src/server/llhttp/api_unit.c",
        "src/server/llhttp/http_unit.c"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!(node scripts/python-config.js include)",
        "/usr/share/include/llhttp",
        "/usr/share/llhttp"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        # while a worker terminates, a Napi::Error cannot be thrown into JS: drop it instead of
        # letting the failed throw escape as a C++ exception (std::terminate, the whole process)
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "PYBIND11_DETAILED_ERROR_MESSAGES",
        "LLHTTP_STRICT_MODE=1"
      ],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags": ["-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-fvisibility=hidden", "-O2"],
      "conditions": [
        # NODE_ASGI_SANITIZE=address builds for `npm run test:asan` (scripts/test-asan.sh)
        ["'<!(node -p \"process.env.NODE_ASGI_SANITIZE || ''\")'=='address'", {
          "cflags_cc": ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-O1", "-g"],
          "ldflags": ["-fsanitize=address,undefined"]
        }]
      ],
      "libraries": [
        "-L<!(node scripts/python-config.js libdir)",
        "<!(node scripts/python-config.js lib)",
        "-Wl,-rpath,<!(node scripts/python-config.js libdir)",
        "-Wl,-z,nodelete",
        "-lz",
        "-ldl",
        "-lpthread"
      ]
    }
  ]
}
