// The realtime-chat example's client: joins over a WebSocket, shows messages and notices, and
// reconnects with exponential backoff (re-joining with the same name) whenever the connection drops.
'use strict'

const RETRY_BASE_MS = 500
const RETRY_MAX_MS = 8000
const NAME_ERRORS = new Set(['bad_name', 'name_taken', 'room_full'])

const $ = (id) => document.getElementById(id)
const ui = {
  status: $('status'),
  joinForm: $('join-form'),
  name: $('name'),
  joinError: $('join-error'),
  chat: $('chat'),
  messages: $('messages'),
  messageForm: $('message-form'),
  text: $('text'),
  send: $('send'),
  leave: $('leave'),
  users: $('users'),
  userCount: $('user-count')
}

const session = {
  name: null, // the name to join (and re-join) with; null until the form is submitted
  ws: null,
  joined: false,
  everJoined: false, // joined once since the form was submitted: a later 'joined' is a re-join
  restarting: false, // the server announced its shutdown (or closed with 1001/1012) since the last join
  attempt: 0, // reconnect attempts since the last successful join
  retryTimer: null,
  stopped: true // no reconnecting: before joining, after leaving, after a name error
}

function setState (state, text) {
  document.body.dataset.state = state
  ui.status.textContent = text
}

function wsUrl () {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`
}

function connect () {
  clearTimeout(session.retryTimer)
  session.retryTimer = null
  session.joined = false
  setState('connecting', session.attempt ? `Reconnecting as ${session.name}…` : `Connecting as ${session.name}…`)
  const ws = new WebSocket(wsUrl())
  session.ws = ws
  ws.onopen = () => ws.send(JSON.stringify({ type: 'join', name: session.name }))
  ws.onmessage = (event) => {
    let message
    try {
      message = JSON.parse(event.data)
    } catch {
      addLine('error', `unreadable frame from the server: ${String(event.data).slice(0, 80)}`)
      return
    }
    receive(message)
  }
  ws.onclose = (event) => {
    if (session.ws !== ws) return
    session.ws = null
    session.joined = false
    setInputEnabled(false)
    if (session.stopped) return
    scheduleReconnect(event)
  }
}

function scheduleReconnect (event) {
  const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** session.attempt * (0.8 + Math.random() * 0.4))
  session.attempt++
  if (event.code === 1012 || event.code === 1001) session.restarting = true
  const why = session.restarting ? 'server restarting' : 'connection lost'
  setState('reconnecting', `Disconnected (${why}, code ${event.code}); reconnecting in ${(delay / 1000).toFixed(1)} s (attempt ${session.attempt})`)
  session.retryTimer = setTimeout(connect, delay)
}

function receive (message) {
  switch (message.type) {
    case 'joined':
      session.joined = true
      session.attempt = 0
      ui.joinForm.hidden = true
      ui.chat.hidden = false
      setInputEnabled(true)
      setUsers(message.users)
      if (session.everJoined) addLine('notice notice-reconnected', `Reconnected as ${message.name}`)
      session.everJoined = true
      session.restarting = false
      setState('joined', `Connected as ${message.name}`)
      ui.text.focus()
      break
    case 'notice':
      addLine(`notice notice-${message.event}`, message.text)
      if (Array.isArray(message.users)) setUsers(message.users)
      if (message.event === 'shutdown') {
        session.restarting = true
        setState('reconnecting', 'The server is shutting down; will reconnect')
      }
      break
    case 'message':
      addMessage(message)
      break
    case 'error':
      if (!session.joined && NAME_ERRORS.has(message.code)) {
        stop()
        ui.joinError.textContent = message.error
        ui.joinForm.hidden = false
        ui.chat.hidden = true
        setState('closed', `Could not join: ${message.error}`)
        ui.name.focus()
      } else {
        addLine('error', `Error (${message.code}): ${message.error}`)
      }
      break
    default:
      addLine('error', `unknown frame type from the server: ${String(message.type).slice(0, 40)}`)
  }
}

function stop () {
  session.stopped = true
  clearTimeout(session.retryTimer)
  session.retryTimer = null
  if (session.ws) {
    const ws = session.ws
    session.ws = null
    ws.close(1000, 'bye')
  }
  session.joined = false
  setInputEnabled(false)
}

function addLine (className, text) {
  const li = document.createElement('li')
  li.className = className
  li.textContent = text
  append(li)
}

function addMessage (message) {
  const li = document.createElement('li')
  li.className = message.from === session.name ? 'message mine' : 'message'
  const from = document.createElement('span')
  from.className = 'from'
  from.textContent = message.from
  const text = document.createElement('span')
  text.className = 'text'
  text.textContent = message.text
  const time = document.createElement('time')
  const at = new Date(message.time)
  time.dateTime = at.toISOString()
  time.textContent = at.toLocaleTimeString()
  li.append(time, from, text)
  append(li)
}

function append (li) {
  const atBottom = ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 40
  ui.messages.append(li)
  if (atBottom) ui.messages.scrollTop = ui.messages.scrollHeight
}

function setUsers (names) {
  ui.users.replaceChildren(...names.map((name) => {
    const li = document.createElement('li')
    li.textContent = name
    if (name === session.name) li.className = 'me'
    return li
  }))
  ui.userCount.textContent = String(names.length)
}

function setInputEnabled (enabled) {
  ui.text.disabled = !enabled
  ui.send.disabled = !enabled
}

ui.joinForm.addEventListener('submit', (event) => {
  event.preventDefault()
  const name = ui.name.value.trim()
  if (!name) {
    ui.joinError.textContent = 'Enter a name.'
    return
  }
  ui.joinError.textContent = ''
  session.name = name
  session.stopped = false
  session.everJoined = false
  session.attempt = 0
  connect()
})

ui.messageForm.addEventListener('submit', (event) => {
  event.preventDefault()
  const text = ui.text.value.trim()
  if (!text || !session.joined || !session.ws) return
  session.ws.send(JSON.stringify({ type: 'message', text }))
  ui.text.value = ''
})

ui.leave.addEventListener('click', () => {
  stop()
  ui.chat.hidden = true
  ui.joinForm.hidden = false
  setState('idle', 'You left. Choose a name to join again.')
})
