// Attaches to a Node.js inspector the way VS Code's "attach" does: enables the debugger, lets a
// program started with --inspect-brk run, resumes every pause, and exits when the target goes.
//   node inspector_client.mjs ws://127.0.0.1:PORT/UUID
const ws = new WebSocket(process.argv[2]);
let id = 0;
const send = (method, params = {}) => ws.send(JSON.stringify({ id: ++id, method, params }));
ws.onopen = () => {
  console.log("attached");
  send("Debugger.enable");
  send("Runtime.runIfWaitingForDebugger");
};
ws.onmessage = (message) => {
  const event = JSON.parse(message.data);
  if (event.method === "Debugger.paused") {
    console.log("paused");
    send("Debugger.resume");
  }
};
ws.onclose = () => process.exit(0);
ws.onerror = (error) => {
  console.error(`inspector: ${error.message ?? error}`);
  process.exit(1);
};
