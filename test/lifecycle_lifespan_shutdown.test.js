'use strict'
// close() runs lifespan shutdown and awaits it. The fixture writes $NODE_ASGI_TEST_SHUTDOWN_FILE
// during shutdown; the variable is set before any handler of this process starts, because
// Python's os.environ is a snapshot taken when the interpreter starts.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'node-asgi-shutdown-'))
const shutdownFile = path.join(tmp, 'shutdown.txt')
process.env.NODE_ASGI_TEST_SHUTDOWN_FILE = shutdownFile

const { PythonHandler } = require('..')
const { FIXTURES, captureLogger, startServer } = require('./helpers')

test.after(() => fs.rmSync(tmp, { recursive: true, force: true }))
test.beforeEach(() => fs.rmSync(shutdownFile, { force: true }))

test('close() runs lifespan shutdown before it resolves', async () => {
  const served = await startServer('raw_apps:lifespan_state')
  const res = await fetch(`${served.url}/`, { signal: AbortSignal.timeout(5000) })
  assert.equal(res.status, 200)
  await res.arrayBuffer()
  assert.equal(fs.existsSync(shutdownFile), false, 'shutdown has not run yet')
  await served.close()
  assert.equal(fs.readFileSync(shutdownFile, 'utf8'), 'shutdown complete')
  assert.equal(served.handler.state, 'closed')
})

test('close() of a started handler that served nothing still runs shutdown', async () => {
  const handler = new PythonHandler({ app: 'raw_apps:lifespan_state', appDir: FIXTURES, logger: captureLogger() })
  await handler.start()
  await handler.close()
  assert.equal(fs.readFileSync(shutdownFile, 'utf8'), 'shutdown complete')
})

test('close() is idempotent: the same promise, shutdown once', async () => {
  const handler = new PythonHandler({ app: 'raw_apps:lifespan_state', appDir: FIXTURES, logger: captureLogger() })
  await handler.start()
  const first = handler.close()
  assert.equal(handler.close(), first)
  assert.equal(handler.state, 'closing')
  await first
  assert.equal(handler.state, 'closed')
  assert.equal(fs.readFileSync(shutdownFile, 'utf8'), 'shutdown complete')
})

test('lifespan "off": close() does not run shutdown', async () => {
  const handler = new PythonHandler({ app: 'raw_apps:lifespan_state', appDir: FIXTURES, logger: captureLogger(), lifespan: 'off' })
  await handler.start()
  await handler.close()
  assert.equal(fs.existsSync(shutdownFile), false)
})

test('FastAPI shutdown events run on close()', async () => {
  const handler = new PythonHandler({ app: 'fastapi_app:app', appDir: FIXTURES, logger: captureLogger() })
  await handler.start()
  assert.deepEqual(JSON.parse((await handler.handleRequest({ url: '/state' })).body), { started: true })
  await handler.close()
  // The shutdown handler set app.state.started = False on the module-level app; a new handler of
  // the same module (shared module state) runs startup again.
  const again = new PythonHandler({ app: 'fastapi_app:app', appDir: FIXTURES, logger: captureLogger(), lifespan: 'off' })
  await again.start()
  assert.deepEqual(JSON.parse((await again.handleRequest({ url: '/state' })).body), { started: false })
  await again.close()
})

test('lifespan.shutdown.failed: close() still resolves and the app\'s message is logged as an error', async () => {
  const logger = captureLogger()
  const handler = new PythonHandler({ app: 'test_lifespan_shutdown_errors:shutdown_failed', appDir: FIXTURES, logger })
  await handler.start()
  assert.equal((await handler.handleRequest({ url: '/' })).body.toString(), 'ok')
  await closeWithin(handler, 5000)
  assert.equal(handler.state, 'closed')
  const errors = logger.lines.filter((l) => l.level === 'error').map((l) => l.message).join('\n')
  assert.match(errors, /cache flush failed/)
  assert.match(errors, /Application shutdown failed\./)
})

for (const lifespan of ['auto', 'on']) {
  test(`an exception during lifespan shutdown (lifespan ${lifespan}): close() still resolves`, async () => {
    const logger = captureLogger()
    const handler = new PythonHandler({ app: 'test_lifespan_shutdown_errors:shutdown_raises', appDir: FIXTURES, logger, lifespan })
    await handler.start()
    await closeWithin(handler, 5000)
    assert.equal(handler.state, 'closed')
    if (lifespan === 'on') assert.match(logger.text(), /shutdown exploded|Application shutdown failed/)
  })
}

async function closeWithin (handler, ms) {
  let timer
  const outcome = await Promise.race([
    handler.close().then(() => 'closed'),
    new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), ms) })
  ])
  clearTimeout(timer)
  assert.equal(outcome, 'closed', `close() did not resolve within ${ms} ms`)
}
