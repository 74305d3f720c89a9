'use strict'
// worker_threads: handlers in workers share the process's one interpreter with the main thread's,
// each with its own loop thread, app instance and lifespan state; workers exit cleanly.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { Worker } = require('node:worker_threads')
const { once } = require('node:events')
const { startServer, runNodeProcess } = require('./helpers')

const ROOT = path.resolve(__dirname, '..')
const FIXTURES = path.join(ROOT, 'fixtures')

// A worker that serves `app` on 127.0.0.1 port 0, fetches `url` from itself, optionally closes,
// and posts { status, body, state } back. Resolves { messages, exitCode }.
function runWorker (app, { url = '/', close = true, timeoutMs = 15000 } = {}) {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads')
    const http = require('node:http')
    const { PythonHandler } = require(workerData.root)
    ;(async () => {
      const handler = new PythonHandler({ app: workerData.app, appDir: workerData.fixtures, logger: { error: (m) => parentPort.postMessage({ log: String(m) }), warn () {}, info () {} } })
      await handler.start()
      const server = http.createServer(handler.listener()).listen(0, '127.0.0.1')
      await new Promise((resolve) => server.once('listening', resolve))
      const res = await fetch('http://127.0.0.1:' + server.address().port + workerData.url)
      const body = await res.text()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      if (workerData.close) await handler.close()
      parentPort.postMessage({ status: res.status, body, state: handler.state })
    })().catch((err) => parentPort.postMessage({ error: String(err && err.stack), traceback: err && err.traceback }))
  `
  const worker = new Worker(source, { eval: true, workerData: { root: ROOT, fixtures: FIXTURES, app, url, close } })
  const messages = []
  worker.on('message', (m) => messages.push(m))
  const timer = setTimeout(() => worker.terminate(), timeoutMs)
  return Promise.race([
    once(worker, 'exit').then(([exitCode]) => ({ messages, exitCode })),
    once(worker, 'error').then(([err]) => { throw err })
  ]).finally(() => clearTimeout(timer))
}

function resultOf ({ messages }) {
  const result = messages.find((m) => 'status' in m || 'error' in m)
  assert.ok(result, `the worker reported: ${JSON.stringify(messages)}`)
  assert.equal(result.error, undefined, `${result.error}\n${result.traceback || ''}`)
  return result
}

test('a handler in a worker serves a request and the worker exits cleanly, twice in a row, beside a main-thread handler', { timeout: 60000 }, async (t) => {
  const main = await startServer('raw_apps:lifespan_state')
  t.after(() => main.close())
  const before = await (await fetch(`${main.url}/main-1`)).json()
  assert.equal(before.hits, 1)

  for (let round = 1; round <= 2; round++) {
    const run = await runWorker('raw_apps:hello')
    assert.equal(run.exitCode, 0, `round ${round}: worker exit code`)
    const result = resultOf(run)
    assert.equal(result.status, 200, `round ${round}`)
    assert.equal(result.body, 'Hello, world!')
    assert.equal(result.state, 'closed')
    // the main thread's handler keeps serving, with its own state
    const answer = await (await fetch(`${main.url}/main-${round + 1}`)).json()
    assert.equal(answer.hits, round + 1)
    assert.equal(answer.started, true)
  }
})

test('a worker handler of the same module has its own lifespan state', { timeout: 30000 }, async (t) => {
  const main = await startServer('raw_apps:lifespan_state')
  t.after(() => main.close())
  for (let i = 0; i < 3; i++) await (await fetch(`${main.url}/m${i}`)).json()
  const result = resultOf(await runWorker('raw_apps:lifespan_state', { url: '/w' }))
  assert.deepEqual(JSON.parse(result.body), { started: true, mutated_before: false, counter: 0, hits: 1 })
  assert.equal((await (await fetch(`${main.url}/m3`)).json()).hits, 4)
})

test('a worker whose started handler is idle and never closed still exits by itself', { timeout: 30000 }, async () => {
  const run = await runWorker('raw_apps:hello', { close: false })
  assert.equal(run.exitCode, 0)
  const result = resultOf(run)
  assert.equal(result.status, 200)
  assert.equal(result.state, 'started')
  // and another worker can still load the addon and serve afterwards
  const again = await runWorker('raw_apps:hello')
  assert.equal(again.exitCode, 0)
  assert.equal(resultOf(again).status, 200)
})

test('FastAPI served from a worker while the main thread serves it too', { timeout: 30000 }, async (t) => {
  const main = await startServer('fastapi_app:app', { pathIncludesRootPath: false })
  t.after(() => main.close())
  const result = resultOf(await runWorker('fastapi_app:app', { url: '/items/7?q=w' }))
  assert.equal(result.status, 200)
  assert.deepEqual(JSON.parse(result.body), { item_id: 7, q: 'w' })
  assert.deepEqual(await (await fetch(`${main.url}/items/8?q=m`)).json(), { item_id: 8, q: 'm' })
})

test('worker.terminate() with a request in flight ends the worker and leaves the main handler serving', { timeout: 30000 }, async (t) => {
  const main = await startServer('raw_apps:hello')
  t.after(() => main.close())
  for (let round = 0; round < 3; round++) {
    const worker = new Worker(`
      const { parentPort, workerData } = require('node:worker_threads')
      const { PythonHandler } = require(workerData.root)
      const handler = new PythonHandler({ app: 'raw_apps:long_poll', appDir: workerData.fixtures })
      handler.start().then(() => {
        handler.handleRequest({ url: '/?seconds=30' }).catch(() => {})
        parentPort.postMessage('in flight')
      })
    `, { eval: true, workerData: { root: ROOT, fixtures: FIXTURES } })
    const [message] = await Promise.race([once(worker, 'message'), once(worker, 'error').then(([e]) => { throw e })])
    assert.equal(message, 'in flight')
    const began = Date.now()
    await worker.terminate()
    assert.ok(Date.now() - began < 5000, `terminate() took ${Date.now() - began} ms`)
    const res = await fetch(main.url, { signal: AbortSignal.timeout(5000) })
    assert.equal(res.status, 200)
    assert.equal(await res.text(), 'Hello, world!')
  }
})

test('worker.terminate() while responses are streaming does not crash the process', { timeout: 60000 }, async () => {
  // In a child process: a native abort here would otherwise take the test runner's process down.
  const script = `
    const { Worker } = require('node:worker_threads')
    const { PythonHandler } = require(${JSON.stringify(ROOT)})
    ;(async () => {
      const main = new PythonHandler({ app: 'raw_apps:hello', appDir: ${JSON.stringify(FIXTURES)} })
      await main.start()
      for (let i = 0; i < 10; i++) {
        const worker = new Worker(\`
          const { parentPort } = require('node:worker_threads')
          const { PythonHandler } = require(${JSON.stringify(ROOT)})
          const handler = new PythonHandler({ app: 'raw_apps:download', appDir: ${JSON.stringify(FIXTURES)} })
          handler.start().then(() => {
            for (let j = 0; j < 3; j++) handler.handleRequest({ url: '/?mb=8&id=w' + j }).catch(() => {})
            parentPort.postMessage('streaming')
          })
        \`, { eval: true })
        await new Promise((resolve) => worker.once('message', resolve))
        await new Promise((resolve) => setTimeout(resolve, i % 3 * 5))
        await worker.terminate()
        const res = await main.handleRequest({ url: '/' })
        if (res.status !== 200) throw new Error('main handler answered ' + res.status)
      }
      await main.close()
      console.log('SURVIVED')
    })().catch((err) => { console.error(err); process.exit(70) })
  `
  const { code, signal, stdout, stderr } = await runNodeProcess(['-e', script], { timeoutMs: 45000 })
  const result = { code, signal, out: stdout + stderr }
  assert.equal(result.signal, null, `the process died of ${result.signal}:\n${result.out.slice(0, 2000)}`)
  assert.equal(result.code, 0, `exit code ${result.code}:\n${result.out.slice(0, 2000)}`)
  assert.match(result.out, /SURVIVED/)
})

test('process.exit() inside a worker while a response is streaming does not crash the process', { timeout: 60000 }, async () => {
  const script = `
    const { Worker } = require('node:worker_threads')
    ;(async () => {
      for (let i = 0; i < 10; i++) {
        const worker = new Worker(\`
          const { PythonHandler } = require(${JSON.stringify(ROOT)})
          const handler = new PythonHandler({ app: 'raw_apps:download', appDir: ${JSON.stringify(FIXTURES)} })
          handler.start().then(() => {
            handler.handleRequest({ url: '/?mb=8' }).catch(() => {})
            setTimeout(() => process.exit(0), 5)
          })
        \`, { eval: true })
        const code = await new Promise((resolve) => worker.once('exit', resolve))
        if (code !== 0) throw new Error('worker exit code ' + code)
      }
      console.log('SURVIVED')
    })().catch((err) => { console.error(err); process.exit(70) })
  `
  const { code, signal, stdout, stderr } = await runNodeProcess(['-e', script], { timeoutMs: 45000 })
  const result = { code, signal, out: stdout + stderr }
  assert.equal(result.signal, null, `the process died of ${result.signal}:\n${result.out.slice(0, 2000)}`)
  assert.equal(result.code, 0, `exit code ${result.code}:\n${result.out.slice(0, 2000)}`)
  assert.match(result.out, /SURVIVED/)
})
