// The official Socket.IO 4 server with the usual auth middleware: a client
// without the expected token is refused with next(new Error("unauthorized")).
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
io.on("connection", (socket) => {
  socket.on("audio_data", (_data, ack) => {
    if (typeof ack === "function") ack({ ok: true });
  });
});
process.on("SIGTERM", () => process.exit(0));
httpServer.listen(0, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${httpServer.address().port}`);
});
