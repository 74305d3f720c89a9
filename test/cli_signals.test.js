'use strict'
// SIGTERM and SIGINT shut the CLI down gracefully: requests in flight finish, lifespan shutdown is
// awaited, exit code 0. A second SIGINT exits at once.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const fs = require('node:fs')
const os = require('node:os')
const net = require('node:net')
const { spawn } = require('node:child_process')
const { childEnv, startCli: startHelperCli } = require('./helpers')

const ROOT = path.resolve(__dirname, '..')
const BIN = path.join(ROOT, 'bin', 'node-asgi.js')
const children = new Set()
let tmp
test.before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'node-asgi-cli-signals-')) })
test.after(() => {
  for (const child of children) child.kill('SIGKILL')
  fs.rmSync(tmp, { recursive: true, force: true })
})

function startCli (args, options = {}) {
  return startHelperCli(args, { ...options, track: children })
}

for (const signal of ['SIGTERM', 'SIGINT']) {
  test(`${signal}: lifespan shutdown runs and is awaited, exit code 0`, async () => {
    const shutdownFile = path.join(tmp, `shutdown-${signal}.txt`)
    const cli = await startCli(['raw_apps:lifespan_state', '--app-dir', 'fixtures', '--port', '0'], { env: { NODE_ASGI_TEST_SHUTDOWN_FILE: shutdownFile } })
    const res = await fetch(cli.url, { signal: AbortSignal.timeout(5000) })
    assert.equal((await res.json()).started, true)
    cli.child.kill(signal)
    const exit = await cli.exitWithin(10000)
    assert.equal(exit.timedOut, false, cli.stderr())
    assert.equal(exit.code, 0, cli.stderr())
    assert.equal(fs.readFileSync(shutdownFile, 'utf8'), 'shutdown complete')
    const err = cli.stderr()
    assert.match(err, /^INFO: {5}Shutting down$/m)
    assert.match(err, /Waiting for application shutdown\./)
    assert.match(err, /Application shutdown complete\./)
    assert.match(err, new RegExp(`Finished server process \\[${cli.child.pid}\\]`))
    assert.ok(err.indexOf('Application shutdown complete.') < err.indexOf('Finished server process'))
  })

  test(`${signal}: a request in flight finishes before the process exits 0`, async () => {
    const cli = await startCli(['raw_apps:long_poll', '--app-dir', 'fixtures', '--port', '0'])
    const began = Date.now()
    const poll = fetch(`${cli.url}/?seconds=1`, { signal: AbortSignal.timeout(10000) }).then(async (r) => ({ status: r.status, body: await r.text(), at: Date.now() }))
    await new Promise((resolve) => setTimeout(resolve, 200))
    cli.child.kill(signal)
    const answer = await poll
    const exit = await cli.exitWithin(10000)
    assert.equal(exit.timedOut, false, cli.stderr())
    assert.deepEqual([answer.status, answer.body], [200, 'done'])
    assert.equal(exit.code, 0, cli.stderr())
    assert.ok(exit.at >= answer.at - 100, 'the process exited after answering')
    assert.ok(exit.at - began < 6000, `exited ${exit.at - began} ms after the request`)
  })
}

test('SIGTERM with an idle keep-alive connection open exits promptly', async () => {
  const cli = await startCli(['raw_apps:hello', '--app-dir', 'fixtures', '--port', '0'])
  const socket = net.connect(cli.port, '127.0.0.1')
  let received = ''
  socket.on('data', (d) => { received += d })
  socket.on('error', () => {})
  socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n') // keep-alive
  for (let i = 0; i < 100 && !received.includes('Hello, world!'); i++) await new Promise((resolve) => setTimeout(resolve, 20))
  assert.match(received, /Hello, world!/)
  const began = Date.now()
  cli.child.kill('SIGTERM')
  const exit = await cli.exitWithin(10000)
  socket.destroy()
  assert.equal(exit.timedOut, false)
  assert.equal(exit.code, 0)
  assert.ok(exit.at - began < 3000, `exited after ${exit.at - began} ms (the keep-alive timeout is 5 s)`)
})

test('a second SIGINT exits at once while a request is still in flight', async () => {
  const cli = await startCli(['raw_apps:long_poll', '--app-dir', 'fixtures', '--port', '0'])
  const poll = fetch(`${cli.url}/?seconds=30`, { signal: AbortSignal.timeout(20000) }).then(() => 'answered', () => 'failed')
  await new Promise((resolve) => setTimeout(resolve, 200))
  cli.child.kill('SIGINT')
  await new Promise((resolve) => setTimeout(resolve, 300))
  assert.equal(cli.child.exitCode, null, 'the first SIGINT waits for the request')
  const began = Date.now()
  cli.child.kill('SIGINT')
  const exit = await cli.exitWithin(10000)
  assert.equal(exit.timedOut, false)
  assert.equal(exit.code, 0)
  assert.ok(exit.at - began < 2000, `exited ${exit.at - began} ms after the second SIGINT`)
  assert.equal(await poll, 'failed')
})

test('--timeout-graceful-shutdown bounds the wait for requests in flight on SIGTERM', async () => {
  const cli = await startCli(['raw_apps:long_poll', '--app-dir', 'fixtures', '--port', '0', '--timeout-graceful-shutdown', '0.5'])
  const poll = fetch(`${cli.url}/?seconds=30`, { signal: AbortSignal.timeout(20000) }).then(() => 'answered', () => 'failed')
  await new Promise((resolve) => setTimeout(resolve, 200))
  const began = Date.now()
  cli.child.kill('SIGTERM')
  const exit = await cli.exitWithin(10000)
  assert.equal(exit.timedOut, false, cli.stderr())
  assert.equal(exit.code, 0, cli.stderr())
  assert.ok(exit.at - began < 4000, `exited ${exit.at - began} ms after SIGTERM`)
  assert.match(cli.stderr(), /timeout graceful shutdown exceeded/i)
  assert.equal(await poll, 'failed')
})

test('SIGTERM during a slow startup still shuts down with exit code 0', async () => {
  const child = spawn(process.execPath, [BIN, 'raw_apps:lifespan_slow_startup', '--app-dir', 'fixtures', '--port', '0'], { cwd: ROOT, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += d })
  const exited = new Promise((resolve) => child.on('close', (code, signal) => { children.delete(child); resolve({ code, signal }) }))
  for (let i = 0; i < 200 && !/Waiting for application startup/.test(stderr); i++) await new Promise((resolve) => setTimeout(resolve, 10))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 10000)
  const exit = await exited
  clearTimeout(timer)
  assert.equal(exit.signal, null, stderr)
  assert.equal(exit.code, 0, stderr)
  assert.doesNotMatch(stderr, /running on/, 'it does not start listening after the signal')
})
