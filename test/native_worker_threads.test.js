'use strict'
// The native server in worker_threads: a worker that is terminated (or exits) while its server
// listens with connections open must not take the process down; the server's handles close
// before the worker's event loop does (async cleanup hook), and the handler lets go of its
// thread-safe function while the environment still exists.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { runNodeProcess, childEnv } = require('./helpers')

const ROOT = path.resolve(__dirname, '..')

// In a child process, so that an abort is an exit code and not the test runner's death.
const SCRIPT = `
const { Worker } = require('node:worker_threads')
const net = require('node:net')
const { WebSocket } = require('ws')
const WORKER = \`
const { PythonHandler } = require(${JSON.stringify(ROOT)})
const { parentPort, workerData } = require('node:worker_threads')
;(async () => {
  const h = new PythonHandler({ app: workerData.app, appDir: ${JSON.stringify(path.join(ROOT, 'fixtures'))} })
  const s = await h.listen({ port: 0 })
  parentPort.postMessage(s.address().port)
})()
\`
async function round (i, app, exit) {
  const w = new Worker(WORKER, { eval: true, workerData: { app } })
  const port = await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject) })
  const res = await fetch('http://127.0.0.1:' + port + '/')
  const idle = net.connect(port, '127.0.0.1')
  idle.on('error', () => {})
  await new Promise((resolve) => idle.once('connect', resolve))
  const ws = new WebSocket('ws://127.0.0.1:' + port + '/')
  ws.on('error', () => {})
  await new Promise((resolve) => { ws.once('open', resolve); ws.once('unexpected-response', resolve); ws.once('close', resolve) })
  await w.terminate()
  idle.destroy()
  ws.terminate()
  console.log('round', i, res.status)
}
;(async () => {
  for (let i = 0; i < 3; i++) await round(i, 'ws_echo:app')
  console.log('main alive')
})()
`

test('workers serving natively with open connections and WebSockets can be terminated, three times in a row', async () => {
  const r = await runNodeProcess(['-e', SCRIPT], { env: childEnv(), timeoutMs: 60000 })
  assert.equal(r.signal, null, `the process died with ${r.signal}:\n${r.stderr}`)
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /round 2/)
  assert.match(r.stdout, /main alive/)
})
