'use strict'
// Every invalid ASGI message an app can send raises inside the app and never crashes or hangs Node:
// a bounded, seeded stream of generated message dicts is fed to send().
const { test } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const { startServer } = require('./helpers')

const REQUESTS = 300

function get (port, path, timeoutMs = 5000) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('latin1') }))
      res.on('error', () => resolve({ closed: true }))
      res.on('aborted', () => resolve({ closed: true }))
    })
    req.on('error', () => resolve({ closed: true }))
    req.setTimeout(timeoutMs, () => { req.destroy(); resolve({ hung: true }) })
  })
}

test('generated invalid messages raise in the app; the server never crashes or hangs', async (t) => {
  const server = await startServer('fault_fuzz_app:app')
  t.after(() => server.close())
  const outcomes = { response: 0, closed: 0, raisedOnly: 0 }
  let injected = false
  for (let seed = 0; seed < REQUESTS; seed++) {
    const r = await get(server.port, `/fuzz?${seed}`)
    assert.ok(!r.hung, `request with seed ${seed} hung`)
    if (r.closed) {
      outcomes.closed++
      continue
    }
    outcomes.response++
    if (r.headers['x-fuzz']) outcomes.raisedOnly++
    if (r.headers.injected !== undefined) injected = true
    assert.ok(r.status >= 100 && r.status <= 999)
  }
  assert.equal(injected, false, 'a CR/LF in a header value must never reach the wire')
  assert.ok(outcomes.raisedOnly > REQUESTS / 4, `most generated messages should be refused: ${JSON.stringify(outcomes)}`)
  const health = await get(server.port, '/health')
  assert.equal(health.status, 200)
  assert.equal(health.body, 'ok')
})

test('send() refusals name the problem', async (t) => {
  const server = await startServer('fault_fuzz_app:app')
  t.after(() => server.close())
  const seen = new Set()
  for (let seed = 0; seed < 100; seed++) {
    const r = await get(server.port, `/fuzz?${seed}`)
    if (r.headers?.['x-fuzz']) for (const name of r.body.replace('raised: ', '').split(',')) if (name) seen.add(name)
  }
  // the refusals are ordinary Python exceptions of the kinds uvicorn raises
  for (const name of seen) assert.ok(['TypeError', 'ValueError', 'RuntimeError', 'KeyError', 'OverflowError'].includes(name), `unexpected exception type ${name}`)
  assert.ok(seen.has('RuntimeError') && seen.has('TypeError'), `saw ${[...seen]}`)
})
