// Baseline: bare node:http, reading the body and answering 200.
import { createServer } from "node:http";
import { loopbackUrl, serveParent } from "../child.ts";

const server = createServer((request, response) => {
  request.resume();
  request.on("end", () => {
    response.writeHead(200, { "content-type": "application/json" });
    response.end('{"received":true}');
  });
});
server.listen(0, "127.0.0.1", () => serveParent({ url: loopbackUrl(server.address()) }));
