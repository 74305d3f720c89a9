'use strict'
// Apps that block the loop, leak tasks, write to a closed connection, or stop/kill the loop: the
// process survives, other requests are served, and a dead loop is reported, never a hang.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const path = require('node:path')
const { PythonHandler, PythonError } = require('..')
const { startServer, native } = require('./helpers')

const FIXTURES = path.join(__dirname, '..', 'fixtures')
const quiet = { error () {}, warn () {}, info () {}, debug () {} }

async function text (url) {
  const res = await fetch(url)
  return { status: res.status, body: await res.text() }
}

test('an app that blocks the loop delays, but does not lose, other requests', async (t) => {
  const server = await startServer('fault_apps:app')
  t.after(() => server.close())
  const blocked = text(`${server.url}/block?1`)
  await new Promise((resolve) => setTimeout(resolve, 100))
  const t0 = Date.now()
  const fast = await text(`${server.url}/fast`)
  assert.deepEqual(fast, { status: 200, body: 'fast' })
  assert.ok(Date.now() - t0 >= 500, 'the fast request waited for the blocked loop')
  assert.deepEqual(await blocked, { status: 200, body: 'unblocked' })
})

test('leaked tasks do not stop the server from serving or closing', async () => {
  const server = await startServer('fault_apps:app')
  assert.equal((await text(`${server.url}/leak`)).body, 'leaked')
  assert.equal((await text(`${server.url}/fast`)).body, 'fast')
  const t0 = Date.now()
  await server.close()
  assert.ok(Date.now() - t0 < 5000, 'close() cancels leaked tasks instead of waiting for them')
})

test('writes after the client disconnected are dropped without an error', async (t) => {
  const server = await startServer('fault_apps:app')
  t.after(() => server.close())
  await new Promise((resolve, reject) => {
    const req = http.get(`${server.url}/write-after-disconnect`, (res) => {
      res.once('data', () => { req.destroy(); resolve() })
    })
    req.on('error', () => {})
    setTimeout(() => reject(new Error('no first chunk')), 5000)
  })
  let events = ''
  for (let i = 0; i < 50 && !events.includes('wrote-after-disconnect'); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    events = (await text(`${server.url}/events`)).body
  }
  assert.match(events, /wrote-after-disconnect/)
  assert.equal(server.logger.lines.filter((l) => l.level === 'error').length, 0, server.logger.text())
})

test('an app that stops the loop: pending requests are rejected, the handler reports itself failed', async () => {
  const handler = new PythonHandler({ app: 'fault_apps:app', appDir: FIXTURES, logger: quiet })
  await handler.start()
  const pending = handler.handleRequest({ url: '/slow' })
  await assert.rejects(handler.handleRequest({ url: '/stop-loop' }))
  await assert.rejects(pending)
  await assert.rejects(handler.handleRequest({ url: '/fast' }), /loop thread/)
  assert.equal(handler.state, 'failed')
  await handler.close()
})

test('an app that raises SystemExit out of the loop: an error event with the traceback, then 503s', async (t) => {
  const handler = new PythonHandler({ app: 'fault_apps:app', appDir: FIXTURES, logger: quiet })
  await handler.start()
  const errors = []
  const errored = new Promise((resolve) => handler.on('error', (err) => { errors.push(err); resolve() }))
  let server
  if (native) {
    server = await handler.listen({ port: 0, host: '127.0.0.1' })
  } else {
    server = http.createServer(handler.listener()).listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
  }
  t.after(() => new Promise((resolve) => server.close(resolve)))
  const url = `http://127.0.0.1:${server.address().port}`
  const pending = fetch(`${url}/slow`).then((r) => r.status, () => 'closed')
  await fetch(`${url}/exit-loop`).then((r) => r.status, () => 'closed')
  assert.ok([503, 'closed'].includes(await pending))
  await errored
  assert.equal(errors.length, 1)
  assert.ok(errors[0] instanceof PythonError)
  assert.equal(errors[0].type, 'SystemExit')
  assert.match(errors[0].traceback, /SystemExit: 3/)
  const after = await fetch(`${url}/fast`)
  assert.equal(after.status, 503)
  await handler.close()
})
