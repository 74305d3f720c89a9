'use strict'
// terminal_command → terminal_output: only names from the server's TERMINAL_COMMANDS run, as fixed argv
// lists (no shell); unknown names and injection attempts are refused; timeout, output cap and busy limit.
const test = require('node:test')
const assert = require('node:assert/strict')
const { startHub, connectClient, nextEvent, record, ask } = require('./hub_support')

const children = new Set()
test.after(() => { for (const child of children) child.kill('SIGKILL') })

const COMMANDS = {
  greet: ['echo', 'hello from the hub'],
  literal: ['printf', '%s\\n', '$HOME', 'a;b', '*', '`id`'],
  failing: ['ls', '/nonexistent-dir-for-the-hub-test'],
  slow: ['sleep', '30'],
  flood: ['head', '-c', '100000', '/dev/zero'],
  // Leaves the command's process group (setsid forks into a new session) and keeps the output pipe open.
  escape: ['setsid', 'sh', '-c', 'echo started; exec sleep 10']
}

let hub
let socket
let outputs
let errors
test.before(async () => {
  hub = await startHub({
    track: children,
    env: {
      TERMINAL_COMMANDS: JSON.stringify(COMMANDS),
      TERMINAL_TIMEOUT_SECONDS: '1',
      TERMINAL_OUTPUT_LIMIT: '1000',
      TERMINAL_MAX_RUNNING: '1'
    }
  })
  socket = await connectClient(hub.url, { user: 'ops' })
  outputs = record(socket, 'terminal_output')
  errors = record(socket, 'error')
})
test.after(async () => {
  socket?.close()
  await hub?.stop()
})

async function run (payload) {
  const output = nextEvent(socket, 'terminal_output')
  const ack = await ask(socket, 'terminal_command', payload)
  assert.deepEqual(ack, { ok: true })
  return output
}

/** Resolves once everything sent before has been answered (the hub answers one socket in order). */
async function settled () {
  const status = nextEvent(socket, 'system_status')
  await ask(socket, 'system_status')
  await status
}

test('an allowed command runs and its output arrives to the asker, with the request_id echoed', async () => {
  const output = await run({ command: 'greet', request_id: 'r-1' })
  assert.equal(output.command, 'greet')
  assert.equal(output.request_id, 'r-1')
  assert.equal(output.exit_code, 0)
  assert.equal(output.stdout, 'hello from the hub\n')
  assert.equal(output.stderr, '')
  assert.equal(output.truncated, false)
  assert.equal(output.timed_out, false)
})

test('arguments are passed as a fixed argv, never through a shell', async () => {
  const output = await run({ command: 'literal' })
  assert.equal(output.stdout, '$HOME\na;b\n*\n`id`\n')
})

test('a failing command reports its exit code and stderr', async () => {
  const output = await run({ command: 'failing' })
  assert.notEqual(output.exit_code, 0)
  assert.match(output.stderr, /nonexistent-dir-for-the-hub-test/)
})

test('an unknown command is refused with the allow-list named, and nothing runs', async () => {
  const before = outputs.length
  const error = nextEvent(socket, 'error')
  const ack = await ask(socket, 'terminal_command', { command: 'rm' })
  assert.equal(ack.ok, false)
  assert.deepEqual(await error, {
    event: 'terminal_command',
    code: 'unknown_command',
    message: "terminal_command: unknown command 'rm'; allowed: escape, failing, flood, greet, literal, slow"
  })
  await settled()
  assert.equal(outputs.length, before)
})

test('injection attempts (shell syntax, extra args, argv[0] instead of a name, non-strings) are refused', async () => {
  const before = outputs.length
  const attempts = [
    [{ command: 'greet; cat /etc/passwd' }, 'invalid_payload', /field 'command' must be 1-64 of/],
    [{ command: 'greet && id' }, 'invalid_payload', /field 'command' must be 1-64 of/],
    [{ command: '$(id)' }, 'invalid_payload', /field 'command' must be 1-64 of/],
    [{ command: 'greet', args: ['--help'] }, 'invalid_payload', /unknown field 'args'/],
    [{ command: 'echo' }, 'unknown_command', /unknown command 'echo'/],
    [{ command: ['echo', 'hi'] }, 'invalid_payload', /field 'command' must be a string, got array/],
    ['greet', 'invalid_payload', /the payload must be an object, got string/]
  ]
  for (const [payload, code, message] of attempts) {
    const error = nextEvent(socket, 'error')
    const ack = await ask(socket, 'terminal_command', payload)
    assert.equal(ack.ok, false, JSON.stringify(payload))
    const got = await error
    assert.equal(got.code, code, JSON.stringify(payload))
    assert.match(got.message, message)
  }
  await settled()
  assert.equal(outputs.length, before, 'no command ran')
})

test('a command over TERMINAL_TIMEOUT_SECONDS is killed and reported timed_out; the hub keeps serving meanwhile', async () => {
  const began = Date.now()
  const output = nextEvent(socket, 'terminal_output')
  const acked = ask(socket, 'terminal_command', { command: 'slow' })
  await settled() // answered while the command runs: the subprocess does not block the event loop
  const result = await output
  assert.deepEqual(await acked, { ok: true })
  assert.equal(result.timed_out, true)
  assert.equal(result.exit_code, -9)
  const elapsed = Date.now() - began
  assert.ok(elapsed >= 900 && elapsed < 20000, `took ${elapsed} ms`)
})

test('a timed-out command whose descendant escaped its process group still gets its answer, output so far kept', async () => {
  const output = await run({ command: 'escape' })
  assert.equal(output.timed_out, true)
  assert.equal(output.stdout, 'started\n')
  // Answered after the timeout (1 s) plus the 2 s grace for the pipes, not when the escaped sleep (10 s) ends.
  assert.ok(output.duration_ms < 9000, `answered after ${output.duration_ms} ms`)
})

test('output beyond TERMINAL_OUTPUT_LIMIT is cut and reported truncated', async () => {
  const output = await run({ command: 'flood' })
  assert.equal(output.truncated, true)
  assert.equal(output.stdout.length, 1000)
})

test('TERMINAL_MAX_RUNNING: a command while another runs is refused as busy', async () => {
  const first = nextEvent(socket, 'terminal_output')
  const error = nextEvent(socket, 'error')
  socket.emit('terminal_command', { command: 'slow' })
  socket.emit('terminal_command', { command: 'greet' })
  const refusal = await error
  assert.equal(refusal.code, 'busy')
  assert.match(refusal.message, /already running \(TERMINAL_MAX_RUNNING\)/)
  assert.equal((await first).command, 'slow')
  assert.equal((await run({ command: 'greet' })).exit_code, 0, 'runs again once the slot is free')
  assert.deepEqual(errors.filter((e) => e.code === 'internal_error'), [])
})
