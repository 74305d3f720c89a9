'use strict'
// A chat room of 100 clients served by one Python app that keeps its members in a module-level
// dict and broadcasts with the other connections' send(): every message reaches every other member
// exactly once, never its sender, and members that leave are dropped from the room.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { once } = require('node:events')
const WebSocket = require('ws')
const { startWebSocketServer, waitFor } = require('./helpers')

const MEMBERS = 100
const ROUNDS = 2
let served
const clients = new Set()

before(async () => {
  served = await startWebSocketServer('ws_chat:app')
})

after(async () => {
  for (const ws of clients) ws.terminate()
  await served?.close()
})

async function join (name) {
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}/room?name=${name}`)
  clients.add(ws)
  ws.on('close', () => clients.delete(ws))
  const received = []
  const joined = new Promise((resolve) => {
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString())
      if ('joined' in message) resolve(message.joined)
      else received.push(message)
    })
  })
  await joined // the app has added us to the room
  return { name, ws, received }
}

const members = async () => (await fetch(`${served.url}/members`)).json()

test(`every message reaches each of the other ${MEMBERS - 1} members exactly once`, { timeout: 50000 }, async () => {
  const room = []
  for (let start = 0; start < MEMBERS; start += 25) {
    const batch = []
    for (let i = start; i < start + 25; i++) batch.push(join(`m${i}`))
    room.push(...await Promise.all(batch))
  }
  assert.equal((await members()).length, MEMBERS)

  for (let round = 0; round < ROUNDS; round++) for (const m of room) m.ws.send(`${m.name} says ${round} – ✓`)
  const expectedEach = (MEMBERS - 1) * ROUNDS
  await waitFor(() => room.every((m) => m.received.length >= expectedEach), {
    timeoutMs: 40000,
    intervalMs: 50,
    message: `${expectedEach} messages at each member`
  })

  for (const m of room) {
    assert.equal(m.received.length, expectedEach, `${m.name} got ${m.received.length} messages`)
    const seen = new Map()
    for (const { from, text } of m.received) {
      assert.notEqual(from, m.name, `${m.name} received its own message`)
      assert.match(text, new RegExp(`^${from} says [0-9]+ – ✓$`))
      seen.set(text, (seen.get(text) ?? 0) + 1)
    }
    assert.equal(seen.size, expectedEach, `${m.name} got duplicates`)
    // Messages from one sender arrive in the order that sender sent them.
    for (const other of room) {
      if (other === m) continue
      const fromOther = m.received.filter((r) => r.from === other.name).map((r) => r.text)
      assert.deepEqual(fromOther, Array.from({ length: ROUNDS }, (_, round) => `${other.name} says ${round} – ✓`))
    }
  }
})

test('members that leave are removed; the rest keep chatting', { timeout: 20000 }, async () => {
  const membersBefore = await members()
  const leaving = [...clients].slice(0, 10)
  await Promise.all(leaving.map((ws) => { const closed = once(ws, 'close'); ws.close(1000); return closed }))
  await waitFor(async () => (await members()).length === membersBefore.length - 10, { message: 'room shrinks by 10' })

  const a = await join('late-a')
  const b = await join('late-b')
  a.ws.send('hello b')
  await waitFor(() => b.received.some((m) => m.from === 'late-a' && m.text === 'hello b'), { message: 'late-b hears late-a' })
  assert.equal(a.received.filter((m) => m.from === 'late-a').length, 0)
})

test('a name already in the room is refused with 403 before accepting', { timeout: 10000 }, async () => {
  await join('unique')
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}/room?name=unique`)
  ws.on('error', () => {})
  const [, res] = await once(ws, 'unexpected-response')
  assert.equal(res.statusCode, 403)
  res.resume()
  ws.terminate()
})
