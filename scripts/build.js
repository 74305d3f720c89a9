#!/usr/bin/env node
'use strict'
// Builds the addon with npm's bundled node-gyp against the installed Node headers (never downloads
// them), and records which Python it embeds in build/python.json for the runtime to use.
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { describePython } = require('./python-config')

const root = path.resolve(__dirname, '..')
const nodedir = path.resolve(path.dirname(process.execPath), '..')

function findNodeGyp () {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(nodedir, 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js')
  ]
  for (const c of candidates) if (c && fs.existsSync(c)) return c
  throw new Error('node-asgi: cannot find the node-gyp bundled with npm (looked in ' + candidates.filter(Boolean).join(', ') + ')')
}

function main () {
  let python
  try {
    python = describePython()
  } catch (err) {
    console.error(err.message)
    process.exit(1)
  }
  console.log(`node-asgi: embedding Python ${python.version} from ${python.executable} (libpython in ${python.libdir})`)
  // The native server compiles Debian's llhttp C sources and uses zlib's headers.
  for (const [file, pkg] of [['/usr/share/llhttp/llhttp.c', 'node-llhttp'], ['/usr/share/include/llhttp/llhttp.h', 'node-llhttp'], ['/usr/include/zlib.h', 'zlib1g-dev']]) {
    if (!fs.existsSync(file)) {
      console.error(`node-asgi: ${file} not found: install the Debian package ${pkg} (apt-get install ${pkg}; \`npm run setup\` installs everything node-asgi needs)`)
      process.exit(1)
    }
  }
  if (!fs.existsSync(path.join(nodedir, 'include/node/node_api.h'))) {
    console.error(`node-asgi: Node headers not found in ${nodedir}/include/node (Debian/NodeSource: they ship with the nodejs package)`)
    process.exit(1)
  }
  const args = [findNodeGyp(), 'rebuild', `--nodedir=${nodedir}`, '--release']
  if (process.env.NODE_ASGI_JOBS) args.push(`--jobs=${process.env.NODE_ASGI_JOBS}`)
  else args.push('--jobs=max')
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ASGI_PYTHON: python.requested } })
  if (r.status !== 0) process.exit(r.status || 1)
  fs.writeFileSync(path.join(root, 'build/python.json'), JSON.stringify(python, null, 2) + '\n')
}

main()
