// The baseline of bench/fanout.mjs: a bare `ws` server in its own process that sends each message
// it is handed over IPC to every connected client, as it is (no GraphQL, no filter, no per-client work).
import { WebSocketServer } from 'ws'

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
wss.on('listening', () => process.send({ port: wss.address().port }))
process.on('message', ({ broadcast }) => {
  for (const socket of wss.clients) socket.send(broadcast)
})
