'use strict'
// A missing or unloadable native addon gives an error naming the one command that builds it
// from the consumer's project (`npm rebuild node-asgi`); requiring node-asgi still works.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { loadAddon } = require('../lib/native')
const { runNodeProcess, childEnv } = require('./helpers')

const ROOT = path.resolve(__dirname, '..')
const REBUILD = /Build it from your project with: npm rebuild node-asgi$/
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'node-asgi-addon-'))
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }))

function buildDir (name, files) {
  const dir = path.join(tmp, name)
  fs.mkdirSync(path.join(dir, 'Release'), { recursive: true })
  for (const [file, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), content)
  return dir
}

test('no addon: the error names the missing file and `npm rebuild node-asgi`', () => {
  const dir = buildDir('empty', {})
  assert.throws(() => loadAddon(dir), (err) => {
    assert.ok(err.message.includes(path.join(dir, 'Release/node_asgi.node')), err.message)
    assert.match(err.message, REBUILD)
    return true
  })
})

test("no python.json (an interrupted build): the same advice, naming that file", () => {
  const dir = buildDir('half', { 'Release/node_asgi.node': fs.readFileSync(path.join(ROOT, 'build/Release/node_asgi.node')) })
  assert.throws(() => loadAddon(dir), (err) => err.message.includes(path.join(dir, 'python.json')) && REBUILD.test(err.message))
})

test('an addon that cannot be loaded (corrupt, or built for another Node): rebuild advice with the cause', () => {
  const dir = buildDir('corrupt', { 'Release/node_asgi.node': 'not a shared object', 'python.json': '{}' })
  assert.throws(() => loadAddon(dir), (err) => {
    assert.match(err.message, /cannot load the native addon .*node_asgi\.node \(.+\)\. Rebuild it from your project with: npm rebuild node-asgi$/)
    assert.ok(err.cause instanceof Error)
    return true
  })
})

test('the built addon loads from the default location', () => {
  const { addon, python } = loadAddon()
  assert.equal(typeof addon.NativeHandler, 'function')
  assert.equal(typeof python.executable, 'string')
})

test('an installed copy without its build: require works, start() rejects with the rebuild advice', async () => {
  const project = path.join(tmp, 'project')
  const installed = path.join(project, 'node_modules', 'node-asgi')
  fs.mkdirSync(installed, { recursive: true })
  fs.cpSync(path.join(ROOT, 'lib'), path.join(installed, 'lib'), { recursive: true })
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(installed, 'package.json'))
  fs.symlinkSync(path.join(ROOT, 'node_modules', 'ws'), path.join(project, 'node_modules', 'ws'), 'dir')
  fs.writeFileSync(path.join(project, 'main.js'), `
const { PythonHandler } = require('node-asgi')
const handler = new PythonHandler({ app: 'main:app' })
handler.start().then(() => process.stdout.write('started'), (err) => process.stdout.write(err.message + '\\n' + handler.state))
`)
  const result = await runNodeProcess([path.join(project, 'main.js')], { cwd: project, env: childEnv(), timeoutMs: 30000 })
  assert.equal(result.code, 0, result.stderr)
  const [message, state] = result.stdout.split('\n')
  assert.equal(message, `node-asgi: the native addon is not built (${path.join(installed, 'build/Release/node_asgi.node')} is missing). Build it from your project with: npm rebuild node-asgi`)
  assert.equal(state, 'failed')
})
