'use strict'
// A burst the app produces within one loop iteration reaches JS as several event batches (the
// addon hands over at most 1024 events per call): 5000 small sends arrive complete and in order,
// followed by the app's last message.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { once } = require('node:events')
const WebSocket = require('ws')
const { startWebSocketServer } = require('./helpers')

let served

before(async () => {
  served = await startWebSocketServer('ws_flow:app', { wsPerMessageDeflate: false })
})

after(async () => {
  await served?.close()
})

test('5000 sends of one loop iteration arrive complete and in order', async () => {
  const count = 5000
  // 5000 × 8 bytes stay under the 64 KiB high-water mark: no send() waits, so all of them are
  // queued in one loop iteration and delivered as five batches.
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}/fast-writer?id=burst&count=${count}&size=8`, { perMessageDeflate: false })
  const received = []
  let done = false
  ws.on('message', (data, isBinary) => {
    if (!isBinary && data.toString() === 'done') done = true
    else received.push(data.readUInt32BE(0))
  })
  await once(ws, 'open')
  const deadline = Date.now() + 10000
  while (!done && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  ws.close()
  assert.ok(done, `the final message did not arrive (got ${received.length} of ${count})`)
  assert.equal(received.length, count)
  assert.ok(received.every((seq, i) => seq === i), 'messages out of order')
})
