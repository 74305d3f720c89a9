'use strict'
// How a Node process that embeds Python ends: promptly after close(), at once on process.exit()
// (with Python's unflushed print() output kept), by itself when a started handler is idle.
// Each case is a child Node process (Python starts once per process).
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { childEnv, runNodeProcess } = require('./helpers')

const ROOT = path.resolve(__dirname, '..')
const FIXTURES = path.join(ROOT, 'fixtures')
const children = new Set()

// Runs `body` (an async function's source, with PythonHandler, http and FIXTURES in scope) in a
// child Node process. Resolves { code, signal, stdout, stderr, ms, killed }; SIGKILLed after timeoutMs.
function runScript (body, { timeoutMs = 15000 } = {}) {
  const script = `
    const http = require('node:http')
    const { PythonHandler } = require(${JSON.stringify(ROOT)})
    const FIXTURES = ${JSON.stringify(FIXTURES)}
    ;(async () => { ${body} })().catch((err) => { console.error('SCRIPT FAILED', err && err.stack); process.exit(70) })
  `
  const env = childEnv()
  delete env.PYTHONUNBUFFERED // the product must make stdout unbuffered itself
  let spawned = null
  return runNodeProcess(['-e', script], { env, timeoutMs, onSpawn: (child) => children.add(spawned = child) })
    .finally(() => children.delete(spawned))
}

test.after(() => { for (const child of children) child.kill('SIGKILL') })

const describeRun = (r) => `code=${r.code} signal=${r.signal} killed=${r.killed} ms=${r.ms}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`

test('a script that starts a handler, serves one request over HTTP and closes exits by itself, promptly, with code 0', async () => {
  const r = await runScript(`
    const handler = new PythonHandler({ app: 'raw_apps:hello', appDir: FIXTURES })
    await handler.start()
    const server = http.createServer(handler.listener()).listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    const res = await fetch('http://127.0.0.1:' + server.address().port + '/')
    console.log('STATUS', res.status, await res.text())
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await handler.close()
    console.log('CLOSED')
  `)
  assert.equal(r.killed, false, describeRun(r))
  assert.equal(r.code, 0, describeRun(r))
  assert.match(r.stdout, /STATUS 200 Hello, world!/)
  assert.match(r.stdout, /CLOSED/)
  assert.ok(r.ms < 5000, `exited after ${r.ms} ms`)
})

test('process.exit() with requests in flight exits at once, and unflushed print() output reaches stdout', async () => {
  const r = await runScript(`
    const printer = new PythonHandler({ app: 'raw_apps:print_app', appDir: FIXTURES })
    const poller = new PythonHandler({ app: 'raw_apps:long_poll', appDir: FIXTURES })
    await printer.start()
    await poller.start()
    const server = http.createServer(poller.listener()).listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    const res = await printer.handleRequest({ url: '/' })
    console.log('PRINTED-RESPONSE', res.body.toString())
    // two long polls in flight (one over HTTP, one in-process), then exit without closing anything
    fetch('http://127.0.0.1:' + server.address().port + '/?seconds=30').catch(() => {})
    poller.handleRequest({ url: '/?seconds=30' }).catch(() => {})
    setTimeout(() => process.exit(0), 200)
  `)
  assert.equal(r.killed, false, describeRun(r))
  assert.equal(r.code, 0, describeRun(r))
  assert.ok(r.ms < 5000, `exited after ${r.ms} ms`)
  assert.match(r.stdout, /PRINTED-RESPONSE printed/)
  assert.match(r.stdout, /^printed-from-python$/m, `Python's print() output is on stdout:\n${describeRun(r)}`)
})

test('process.exit() right after a print() request, with nothing else pending, keeps the print() output', async () => {
  const r = await runScript(`
    const handler = new PythonHandler({ app: 'raw_apps:print_app', appDir: FIXTURES })
    for (let i = 0; i < 3; i++) await handler.handleRequest({ url: '/' })
    process.exit(0)
  `)
  assert.equal(r.code, 0, describeRun(r))
  assert.equal(r.stdout.match(/^printed-from-python$/mg)?.length, 3, describeRun(r))
})

test('an idle started handler (no server, never closed) does not keep Node alive', async () => {
  const r = await runScript(`
    const handler = new PythonHandler({ app: 'raw_apps:hello', appDir: FIXTURES })
    await handler.start()
    const res = await handler.handleRequest({ url: '/' })
    console.log('SERVED', res.status)
    process.on('exit', (code) => console.log('EXITING', code, handler.state))
  `)
  assert.equal(r.killed, false, `the child did not exit by itself:\n${describeRun(r)}`)
  assert.equal(r.code, 0, describeRun(r))
  assert.match(r.stdout, /SERVED 200/)
  assert.match(r.stdout, /EXITING 0 started/)
  assert.ok(r.ms < 5000, `exited after ${r.ms} ms`)
})

test('a started handler that never served anything does not keep Node alive', async () => {
  const r = await runScript(`
    const handler = new PythonHandler({ app: 'raw_apps:lifespan_state', appDir: FIXTURES })
    await handler.start()
    console.log('STARTED', handler.state)
  `)
  assert.equal(r.killed, false, describeRun(r))
  assert.equal(r.code, 0, describeRun(r))
  assert.match(r.stdout, /STARTED started/)
})

test('a request in flight keeps Node alive until it is answered, then the process exits by itself', async () => {
  const r = await runScript(`
    const handler = new PythonHandler({ app: 'raw_apps:long_poll', appDir: FIXTURES })
    await handler.start()
    handler.handleRequest({ url: '/?seconds=0.5' }).then((res) => console.log('ANSWER', res.body.toString()))
  `)
  assert.equal(r.killed, false, describeRun(r))
  assert.equal(r.code, 0, describeRun(r))
  assert.match(r.stdout, /ANSWER done/)
  assert.ok(r.ms < 5000, `exited after ${r.ms} ms`)
})

test('a handler that is starting keeps Node alive until startup completes', async () => {
  const r = await runScript(`
    const handler = new PythonHandler({ app: 'raw_apps:lifespan_slow_startup', appDir: FIXTURES })
    handler.start().then(() => console.log('STARTED'))
  `)
  assert.equal(r.code, 0, describeRun(r))
  assert.match(r.stdout, /STARTED/)
})

test('an app raising SystemExit or KeyboardInterrupt gets a 500 and the process carries on', async () => {
  const r = await runScript(`
    const quiet = { error () {}, warn () {}, info () {} }
    const exiting = new PythonHandler({ app: 'raw_apps:system_exit', appDir: FIXTURES, logger: quiet })
    const interrupted = new PythonHandler({ app: 'raw_apps:keyboard_interrupt', appDir: FIXTURES, logger: quiet })
    const hello = new PythonHandler({ app: 'raw_apps:hello', appDir: FIXTURES, logger: quiet })
    console.log('EXIT', (await exiting.handleRequest({ url: '/' })).status)
    console.log('INTERRUPT', (await interrupted.handleRequest({ url: '/' })).status)
    console.log('AGAIN', (await exiting.handleRequest({ url: '/' })).status)
    console.log('HELLO', (await hello.handleRequest({ url: '/' })).status)
    await Promise.all([exiting.close(), interrupted.close(), hello.close()])
    console.log('DONE')
  `)
  assert.equal(r.code, 0, describeRun(r))
  assert.match(r.stdout, /EXIT 500\nINTERRUPT 500\nAGAIN 500\nHELLO 200\nDONE/)
})
