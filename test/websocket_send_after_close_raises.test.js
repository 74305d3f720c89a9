'use strict'
// send() once the connection is closed raises an OSError subclass (uvicorn's ClientDisconnected),
// whether the client closed, the connection was lost, or the app itself closed first. The app
// reports what it caught over HTTP.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { once } = require('node:events')
const WebSocket = require('ws')
const { startWebSocketServer, waitFor } = require('./helpers')

let served
let nextId = 0
const clients = new Set()

before(async () => {
  served = await startWebSocketServer('ws_close:app')
})

after(async () => {
  for (const ws of clients) ws.terminate()
  await served?.close()
})

async function appEvent (id, name) {
  let found
  await waitFor(async () => {
    const events = await (await fetch(`${served.url}/events?id=${id}`)).json()
    found = events.find((e) => e.event === name)
    return found
  }, { message: `${name} for ${id}` })
  return found
}

async function open (path) {
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}${path}`)
  clients.add(ws)
  ws.on('close', () => clients.delete(ws))
  await once(ws, 'open')
  return ws
}

function assertClientDisconnected (caught) {
  assert.equal(caught.raised, true, 'send() after the close must raise')
  assert.equal(caught.is_oserror, true, `expected an OSError subclass, got ${caught.mro.join(' < ')}`)
  assert.ok(caught.mro.includes('OSError'))
  assert.equal(caught.type, 'ClientDisconnected')
}

test('send() after the client closed raises ClientDisconnected, an OSError', { timeout: 10000 }, async () => {
  const id = `client-closed-${nextId++}`
  const ws = await open(`/wait?id=${id}`)
  ws.close(1000)
  await once(ws, 'close')
  assertClientDisconnected(await appEvent(id, 'send_after_disconnect'))
})

test('send() after the connection was lost raises an OSError', { timeout: 10000 }, async () => {
  const id = `lost-${nextId++}`
  const ws = await open(`/wait?id=${id}`)
  ws.terminate()
  assertClientDisconnected(await appEvent(id, 'send_after_disconnect'))
})

test('send() after the app sent websocket.close raises an OSError', { timeout: 10000 }, async () => {
  const id = `app-closed-${nextId++}`
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}/close-then-send?id=${id}`)
  clients.add(ws)
  const [code] = await once(ws, 'close')
  assert.equal(code, 4000)
  const caught = await appEvent(id, 'send_after_app_close')
  assertClientDisconnected(caught)
  assert.match(caught.message, /websocket\.send/)
})
