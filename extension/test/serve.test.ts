import * as assert from "node:assert/strict";
import { test } from "node:test";
import { commandLine, forTerminal, lastLine, LineReader, parseReadyLine, serveArgs, terminalName }
  from "../src/serveModel";

test("the ready line gives the flow's name, its URL and its test page", () => {
  assert.deepEqual(parseReadyLine("Serving flow 'hello' at http://127.0.0.1:8123 (try it: http://127.0.0.1:8123/)"),
    { flow: "hello", url: "http://127.0.0.1:8123", page: "http://127.0.0.1:8123/" });
});

test("a ready line without its test page, or with a name that has quotes and spaces, still counts", () => {
  assert.deepEqual(parseReadyLine("Serving flow 'my flow's v2' at http://127.0.0.1:9000/"),
    { flow: "my flow's v2", url: "http://127.0.0.1:9000", page: "http://127.0.0.1:9000/" });
  assert.deepEqual(parseReadyLine("\u001b[0mServing flow 'x' at http://[::1]:80 (try it: http://[::1]:80/)\r"),
    { flow: "x", url: "http://[::1]:80", page: "http://[::1]:80/" });
});

test("other lines of the server's output are not the ready line", () => {
  for (const line of ["", "INFO:     Started server process [42]", "POST /score 200 12.3 ms id=abc",
    "flowline: error: --source: no flow.dag.yaml in /w/x", "Serving flow 'hello'"]) {
    assert.equal(parseReadyLine(line), undefined, line);
  }
});

test("lines are whole across chunks; what is left after the last line end is flushed", () => {
  const reader = new LineReader();
  assert.deepEqual(reader.push("Serving flow 'he"), []);
  assert.deepEqual(reader.push("llo' at http://127.0.0.1:1 (try it: http://127.0.0.1:1/)\r\nPOST /sc"),
    ["Serving flow 'hello' at http://127.0.0.1:1 (try it: http://127.0.0.1:1/)"]);
  assert.deepEqual(reader.push("ore 200\n\n"), ["POST /score 200", ""]);
  assert.deepEqual(reader.push("partial"), []);
  assert.equal(reader.flush(), "partial");
  assert.equal(reader.flush(), "");
});

test("the command line serves the flow folder on 127.0.0.1 at the given port", () => {
  assert.deepEqual(serveArgs({ folder: "/w/samples/hello", port: 8123 }),
    ["-m", "flowline", "flow", "serve", "--source", "/w/samples/hello", "--host", "127.0.0.1", "--port", "8123"]);
  assert.deepEqual(serveArgs({ folder: "C:\\w\\hello", port: 1, host: "0.0.0.0" }).slice(5),
    ["C:\\w\\hello", "--host", "0.0.0.0", "--port", "1"]);
});

test("the command line as shown in the terminal quotes what a shell would split", () => {
  assert.equal(commandLine("/usr/bin/python3", serveArgs({ folder: "/w/my flows/it's", port: 80 })),
    "/usr/bin/python3 -m flowline flow serve --source '/w/my flows/it'\\''s' --host 127.0.0.1 --port 80");
});

test("the terminal is named after the flow's folder", () => {
  assert.equal(terminalName("/w/samples/hello"), "Flowline: serve hello");
  assert.equal(terminalName("/w/samples/chat-basic/"), "Flowline: serve chat-basic");
  assert.equal(terminalName("C:\\w\\web"), "Flowline: serve web");
});

test("pseudo-terminal text ends every line with CR LF", () => {
  assert.equal(forTerminal("a\nb\r\nc"), "a\r\nb\r\nc");
});

test("the last line a process printed is the reason it gives", () => {
  assert.equal(lastLine("Traceback...\nflowline: error: no flow.dag.yaml in /w\n\n"),
    "flowline: error: no flow.dag.yaml in /w");
  assert.equal(lastLine(""), "");
});
