/* A `python3` that runs on the shared libpython node-asgi embeds instead of Debian's statically
 * linked binary. bench/run.js builds it (bench/native/build/) to run uvicorn and the app floor on
 * the same interpreter build as node-asgi, so that the bench can tell the interpreter's cost from
 * the server's. */
#include <Python.h>

int main(int argc, char **argv) { return Py_BytesMain(argc, argv); }
