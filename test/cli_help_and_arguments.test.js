'use strict'
// node-asgi's command line: --help, --version, and exit code 2 for bad arguments (uvicorn's codes).
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { childEnv, runNodeProcess } = require('./helpers')

const ROOT = path.resolve(__dirname, '..')
const BIN = path.join(ROOT, 'bin', 'node-asgi.js')
const FIXTURES = path.join(ROOT, 'fixtures')

function runCli (args, { timeoutMs = 15000 } = {}) {
  return runNodeProcess([BIN, ...args], { env: childEnv(), timeoutMs })
}

test('--help prints the usage with the options on stdout and exits 0', async () => {
  const r = await runCli(['--help'])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^Usage: node-asgi \[OPTIONS\] APP/)
  for (const option of ['--app-dir', '--host', '--port', '--root-path', '--lifespan', '--factory', '--no-access-log', '--log-level', '--timeout-graceful-shutdown', '--no-path-includes-root-path', '--help']) {
    assert.ok(r.stdout.includes(option), `usage mentions ${option}`)
  }
  assert.equal(r.stderr, '')
})

test('-h is --help', async () => {
  const r = await runCli(['-h'])
  assert.equal(r.code, 0)
  assert.match(r.stdout, /^Usage: node-asgi/)
})

test('--version prints the package version and exits 0', async () => {
  const r = await runCli(['--version'])
  assert.equal(r.code, 0)
  assert.ok(r.stdout.includes(require('../package.json').version), r.stdout)
})

test('a missing APP exits 2 with the usage and an error on stderr', async () => {
  const r = await runCli([])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /Usage: node-asgi/)
  assert.match(r.stderr, /Error: Missing argument 'APP'/)
  assert.equal(r.stdout, '')
})

test('an unknown option exits 2 naming it', async () => {
  const r = await runCli(['--bogus-option', 'raw_apps:hello'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /--bogus-option/)
})

test('a non-numeric or out-of-range --port exits 2 naming --port', async () => {
  for (const port of ['abc', '70000', '-1', '1.5']) {
    const r = await runCli(['--port', port, '--app-dir', FIXTURES, 'raw_apps:hello'])
    assert.equal(r.code, 2, `--port ${port}: ${r.stderr}`)
    assert.match(r.stderr, /--port/)
  }
})

test('a bad --lifespan choice exits 2 naming --lifespan and the choices', async () => {
  const r = await runCli(['--lifespan', 'maybe', '--app-dir', FIXTURES, 'raw_apps:hello'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /--lifespan/)
  assert.match(r.stderr, /'auto', 'on', 'off'/)
})

test('a bad --log-level exits 2', async () => {
  const r = await runCli(['--log-level', 'loud', '--app-dir', FIXTURES, 'raw_apps:hello'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /--log-level/)
})

test('extra positional arguments exit 2', async () => {
  const r = await runCli(['--app-dir', FIXTURES, 'raw_apps:hello', 'extra'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /extra/)
})

test('an --app-dir that does not exist exits 2 naming the option', async () => {
  const r = await runCli(['--app-dir', path.join(ROOT, 'no-such-dir-for-cli-test'), '--port', '0', 'raw_apps:hello'])
  assert.equal(r.code, 2, r.stderr)
  assert.match(r.stderr, /appDir|app-dir/)
})

test('a bad --root-path exits 2 naming the option', async () => {
  const r = await runCli(['--root-path', 'api', '--app-dir', FIXTURES, '--port', '0', 'raw_apps:hello'])
  assert.equal(r.code, 2, r.stderr)
  assert.match(r.stderr, /rootPath|root-path/)
})

test('an APP without ":attribute" exits 2', async () => {
  const r = await runCli(['--app-dir', FIXTURES, '--port', '0', 'raw_apps'])
  assert.equal(r.code, 2, r.stderr)
})
