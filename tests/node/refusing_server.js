// The official Socket.IO 4 server with the usual auth middleware: a client
// without the expected token is refused with next(new Error("unauthorized")).
// A client with it is acked {ok: true} for every audio_data; on SIGTERM the
// server prints what it received, by its own count, as one JSON line.
// Usage: node refusing_server.js TOKEN; prints "listening on http://127.0.0.1:PORT".
const { createServer } = require("http");
const { Server } = require("socket.io");

const token = process.argv[2];
const httpServer = createServer();
const io = new Server(httpServer, { transports: ["websocket"] });

io.use((socket, next) => {
  if (socket.handshake.auth && socket.handshake.auth.token === token) {
    next();
  } else {
    next(new Error("unauthorized"));
  }
});
const seen = { frames: 0, audio_bytes: 0, not_buffers: 0, seqs: [] };
io.on("connection", (socket) => {
  socket.on("audio_data", (data, ack) => {
    seen.frames += 1;
    if (data && Buffer.isBuffer(data.audio)) seen.audio_bytes += data.audio.length;
    else seen.not_buffers += 1;
    if (data && seen.seqs.length < 100000) seen.seqs.push(data.seq);
    if (typeof ack === "function") ack({ ok: true });
  });
});
process.on("SIGTERM", () => {
  process.stdout.write(JSON.stringify(seen) + "\n", () => process.exit(0));
});
httpServer.listen(0, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${httpServer.address().port}`);
});
