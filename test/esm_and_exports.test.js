'use strict'
// The exports map: 'node-asgi' and each subpath load by name from ES modules and CommonJS (the
// same objects, every CommonJS export visible as an ESM named export), each has its types file,
// unexported paths are refused, and the bin still runs.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { FIXTURES, runNodeProcess, childEnv } = require('./helpers')

const ROOT = path.resolve(__dirname, '..')

const pkg = require('../package.json')

// Every public entry point, with exports it must have (the list is explicit: a subpath missing
// from the package fails here).
const ENTRY_POINTS = {
  'node-asgi': ['PythonHandler', 'PythonError'],
  'node-asgi/fastify': ['nodeAsgi', 'default'],
  'node-asgi/platformatic': ['Python', 'Request', 'Response', 'Headers'],
  'node-asgi/testing': ['createTestClient'],
  'node-asgi/cluster': []
}

// A project outside the repository with node-asgi installed (symlinked) in its node_modules.
const project = fs.mkdtempSync(path.join(os.tmpdir(), 'node-asgi-exports-'))
fs.mkdirSync(path.join(project, 'node_modules'))
fs.symlinkSync(ROOT, path.join(project, 'node_modules', 'node-asgi'), 'dir')

// Loads every entry point and prints, per specifier, its export names (or the error).
fs.writeFileSync(path.join(project, 'load.mjs'), `
const specifiers = ${JSON.stringify(Object.keys(ENTRY_POINTS))}
const out = {}
for (const s of specifiers) {
  try {
    const ns = await import(s)
    out[s] = { keys: Object.keys(ns).sort(), defaultType: typeof ns.default }
  } catch (err) { out[s] = { error: err.code || err.message } }
}
process.stdout.write(JSON.stringify(out))
`)
fs.writeFileSync(path.join(project, 'load.cjs'), `
const out = {}
for (const s of ${JSON.stringify(Object.keys(ENTRY_POINTS))}) {
  try {
    const m = require(s)
    out[s] = { keys: Object.keys(m).sort(), type: typeof m }
  } catch (err) { out[s] = { error: err.code || err.message } }
}
process.stdout.write(JSON.stringify(out))
`)
// The same object from both module systems, and an app served from an ES module.
fs.writeFileSync(path.join(project, 'serve.mjs'), `
import { createRequire } from 'node:module'
import { PythonHandler, PythonError } from 'node-asgi'
import nodeAsgi from 'node-asgi/fastify'
const require = createRequire(import.meta.url)
const same = PythonHandler === require('node-asgi').PythonHandler && PythonError === require('node-asgi').PythonError &&
  nodeAsgi === require('node-asgi/fastify')
const handler = new PythonHandler({ app: 'raw_apps:hello', appDir: ${JSON.stringify(FIXTURES)} })
const res = await handler.handleRequest({ url: '/' })
await handler.close()
process.stdout.write(JSON.stringify({ same, status: res.status, body: res.body.toString() }))
`)
fs.writeFileSync(path.join(project, 'unexported.cjs'), `
try { require('node-asgi/lib/handler.js'); process.stdout.write('loaded') } catch (err) { process.stdout.write(err.code) }
`)

test.after(() => fs.rmSync(project, { recursive: true, force: true }))

async function run (file, args = []) {
  const result = await runNodeProcess([path.join(project, file), ...args], { cwd: project, env: childEnv(), timeoutMs: 60000 })
  assert.equal(result.code, 0, `${file} exited ${result.code} ${result.signal ?? ''}: ${result.stderr}`)
  return result
}

let esm
let cjs
test.before(async () => {
  esm = JSON.parse((await run('load.mjs')).stdout)
  cjs = JSON.parse((await run('load.cjs')).stdout)
})

for (const [specifier, expected] of Object.entries(ENTRY_POINTS)) {
  test(`${specifier} loads from CommonJS and ES modules with the same exports, and has types`, () => {
    assert.equal(cjs[specifier].error, undefined, `require('${specifier}') failed: ${cjs[specifier].error}`)
    assert.equal(esm[specifier].error, undefined, `import '${specifier}' failed: ${esm[specifier].error}`)
    const names = cjs[specifier].keys
    assert.ok(names.length > 0, `${specifier} exports something`)
    for (const name of expected) assert.ok(names.includes(name), `${specifier} exports ${name}`)
    // every CommonJS export is an ESM named export too (plus 'default', the module.exports object)
    assert.deepEqual(esm[specifier].keys.filter((k) => k !== 'default'), names.filter((k) => k !== 'default'))
    assert.ok(esm[specifier].keys.includes('default'))
    const entry = pkg.exports[`.${specifier.slice('node-asgi'.length)}`]
    assert.ok(fs.existsSync(path.join(ROOT, entry.types)), `${entry.types} exists`)
    assert.ok(pkg.files.includes(entry.types.slice(2)), `${entry.types} is in package.json "files"`)
  })
}

test('the fastify plugin is the default export from ES modules and module.exports from CommonJS', () => {
  assert.equal(cjs['node-asgi/fastify'].type, 'function')
  assert.equal(esm['node-asgi/fastify'].defaultType, 'function')
})

test('an ES module imports node-asgi by name and serves an app; both module systems share one instance', async () => {
  const out = JSON.parse((await run('serve.mjs')).stdout)
  assert.deepEqual(out, { same: true, status: 200, body: 'Hello, world!' })
})

test("paths outside the exports map are refused; './package.json' is exported", async () => {
  assert.equal((await run('unexported.cjs')).stdout, 'ERR_PACKAGE_PATH_NOT_EXPORTED')
  assert.equal(require(path.join(project, 'node_modules', 'node-asgi', 'package.json')).name, 'node-asgi')
  fs.writeFileSync(path.join(project, 'pkg.mjs'), `
import { createRequire } from 'node:module'
process.stdout.write(createRequire(import.meta.url)('node-asgi/package.json').version)
`)
  assert.equal((await run('pkg.mjs')).stdout, pkg.version)
})

test('the bin runs from an installed copy', async () => {
  const bin = path.join(project, 'node_modules', 'node-asgi', pkg.bin['node-asgi'])
  const result = await runNodeProcess([bin, '--version'], { cwd: project, env: childEnv(), timeoutMs: 30000 })
  assert.equal(result.code, 0, result.stderr)
  assert.match(result.stdout, new RegExp(`^node-asgi ${pkg.version.replace(/\./g, '\\.')} `))
})
