#!/usr/bin/env node
'use strict'
// Describes the Python that node-asgi embeds: $NODE_ASGI_PYTHON, else /usr/bin/python3 — never the
// `python3` on PATH (on these machines a pyenv build whose libpython shares Debian's SONAME).
// Used by binding.gyp (`node scripts/python-config.js cflags|ldflags|...`) and by scripts/build.js.
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')

const DEFAULT_PYTHON = '/usr/bin/python3'

function describePython (executable = process.env.NODE_ASGI_PYTHON || DEFAULT_PYTHON) {
  const probe = [
    'import json, os, sys, sysconfig',
    'v = sysconfig.get_config_var',
    'print(json.dumps({"executable": os.path.realpath(sys.executable), "version": "%d.%d" % sys.version_info[:2],',
    ' "include": sysconfig.get_paths()["include"], "libdir": v("LIBDIR"), "ldlibrary": v("LDLIBRARY"),',
    ' "ldversion": v("LDVERSION"), "shared": bool(v("Py_ENABLE_SHARED"))}))'
  ].join('\n')
  let out
  try {
    out = execFileSync(executable, ['-c', probe], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (err) {
    throw new Error(`node-asgi: cannot run the Python interpreter ${executable} (set NODE_ASGI_PYTHON to a python3 executable): ${err.message}`)
  }
  const info = JSON.parse(out)
  info.requested = executable
  if (!info.shared) {
    throw new Error(`node-asgi: ${executable} (Python ${info.version}) was built without a shared libpython; ` +
      'node-asgi embeds Python and needs libpython3.X.so (Debian: apt-get install libpython3-dev)')
  }
  if (!fs.existsSync(`${info.include}/Python.h`)) {
    throw new Error(`node-asgi: Python.h not found in ${info.include} for ${executable}; install the headers (Debian: apt-get install python3-dev)`)
  }
  if (!fs.existsSync(`${info.libdir}/libpython${info.ldversion}.so`)) {
    throw new Error(`node-asgi: libpython${info.ldversion}.so not found in ${info.libdir} for ${executable} (Debian: apt-get install libpython3-dev)`)
  }
  return info
}

module.exports = { describePython, DEFAULT_PYTHON }

if (require.main === module) {
  const what = process.argv[2]
  const info = describePython()
  const answers = {
    include: info.include,
    libdir: info.libdir,
    lib: `-lpython${info.ldversion}`,
    executable: info.executable,
    json: JSON.stringify(info)
  }
  if (!(what in answers)) {
    console.error(`usage: python-config.js ${Object.keys(answers).join('|')}`)
    process.exit(2)
  }
  process.stdout.write(answers[what])
}
