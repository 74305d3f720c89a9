'use strict'
// The CLI exits with code 3 when the app cannot start (uvicorn's STARTUP_FAILURE), after logging why.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { childEnv, runNodeProcess } = require('./helpers')

const ROOT = path.resolve(__dirname, '..')
const BIN = path.join(ROOT, 'bin', 'node-asgi.js')

function runCli (args, { timeoutMs = 15000 } = {}) {
  return runNodeProcess([BIN, ...args], { env: childEnv(), timeoutMs })
}

const fixtures = ['--app-dir', 'fixtures', '--port', '0']

test('a module that does not exist: exit code 3, the error on stderr, never listening', async () => {
  const r = await runCli(['no_such_module_for_cli:app', ...fixtures])
  assert.equal(r.killed, false, r.stderr)
  assert.equal(r.code, 3, r.stderr)
  assert.match(r.stderr, /ModuleNotFoundError: Could not import module "no_such_module_for_cli"/)
  assert.match(r.stderr, /^ERROR: {4}Application startup failed\. Exiting\.$/m)
  assert.doesNotMatch(r.stderr, /running on/)
  assert.ok(r.ms < 10000)
})

test('a missing attribute: exit code 3', async () => {
  const r = await runCli(['raw_apps:no_such_app', ...fixtures])
  assert.equal(r.code, 3, r.stderr)
  assert.match(r.stderr, /AttributeError/)
  assert.match(r.stderr, /no_such_app/)
})

test('an attribute that is not callable: exit code 3', async () => {
  const r = await runCli(['raw_apps:not_callable', ...fixtures])
  assert.equal(r.code, 3, r.stderr)
  assert.match(r.stderr, /TypeError/)
})

test('an import that raises: exit code 3 with the traceback', async () => {
  const r = await runCli(['test_import_raises:app', ...fixtures])
  assert.equal(r.code, 3, r.stderr)
  assert.match(r.stderr, /Traceback \(most recent call last\):/)
  assert.match(r.stderr, /RuntimeError: boom at import time/)
})

test('lifespan.startup.failed: exit code 3 with the app\'s message', async () => {
  const r = await runCli(['raw_apps:lifespan_failed', ...fixtures])
  assert.equal(r.code, 3, r.stderr)
  assert.match(r.stderr, /Waiting for application startup\./)
  assert.match(r.stderr, /^ERROR: {4}database unreachable$/m)
  assert.match(r.stderr, /Application startup failed\. Exiting\./)
  assert.doesNotMatch(r.stderr, /running on/)
})

test('--lifespan on with an app raising for lifespan: exit code 3', async () => {
  const on = await runCli(['raw_apps:lifespan_raises', ...fixtures, '--lifespan', 'on'])
  assert.equal(on.code, 3, on.stderr)
  assert.match(on.stderr, /RuntimeError: no lifespan here/)
})

test('--factory with a factory that is not callable: exit code 3', async () => {
  const r = await runCli(['raw_apps:not_callable', ...fixtures, '--factory'])
  assert.equal(r.code, 3, r.stderr)
})

test('a port already in use: exit code 3 with uvicorn\'s bind error', async (t) => {
  const net = require('node:net')
  const { once } = require('node:events')
  const blocker = net.createServer().listen(0, '127.0.0.1')
  await once(blocker, 'listening')
  t.after(() => blocker.close())
  const r = await runCli(['raw_apps:hello', '--app-dir', 'fixtures', '--port', String(blocker.address().port)])
  assert.equal(r.killed, false)
  assert.equal(r.code, 3, r.stderr)
  assert.match(r.stderr, /error while attempting to bind on address/)
  assert.match(r.stderr, /EADDRINUSE/)
})
