import * as assert from "node:assert/strict";
import { test } from "node:test";
import { candidates, expand, recentEnough } from "../src/interpreter";

const nothing = () => false;

test("the setting wins and is the only candidate", () => {
  assert.deepEqual(candidates({ setting: "/opt/py/bin/python", pythonExtension: "/ext/python",
    workspaceFolders: ["/w"], platform: "linux", exists: () => true }).map((c) => c.path), ["/opt/py/bin/python"]);
});

test("then the Python extension's choice, then each workspace .venv, then python3", () => {
  const found = candidates({ setting: "", pythonExtension: "/ext/python", workspaceFolders: ["/a", "/b", "/c"],
    platform: "linux", exists: (p) => p === "/a/.venv/bin/python" || p === "/c/.venv/bin/python" });
  assert.deepEqual(found.map((c) => c.path), ["/ext/python", "/a/.venv/bin/python", "/c/.venv/bin/python", "python3"]);
  assert.deepEqual(found.map((c) => c.source), ["the Python extension", ".venv of the workspace",
    ".venv of the workspace", "PATH"]);
});

test("without the Python extension or a .venv: python3 (python on Windows)", () => {
  assert.deepEqual(candidates({ setting: "", workspaceFolders: ["/w"], platform: "linux", exists: nothing })
    .map((c) => c.path), ["python3"]);
  assert.deepEqual(candidates({ setting: "", workspaceFolders: ["C:\\w"], platform: "win32",
    exists: (p) => p === "C:\\w\\.venv\\Scripts\\python.exe" }).map((c) => c.path),
  ["C:\\w\\.venv\\Scripts\\python.exe", "python"]);
});

test("${workspaceFolder} and ~ expand in the setting", () => {
  assert.equal(expand("${workspaceFolder}/.venv/bin/python", "/w", "/home/me"), "/w/.venv/bin/python");
  assert.equal(expand("~/py/bin/python", "/w", "/home/me"), "/home/me/py/bin/python");
  assert.equal(expand("/usr/bin/python3", undefined, "/home/me"), "/usr/bin/python3");
});

test("Python 3.10 or newer", () => {
  assert.equal(recentEnough("3.10.0"), true);
  assert.equal(recentEnough("3.13.1"), true);
  assert.equal(recentEnough("3.9.18"), false);
  assert.equal(recentEnough("2.7.18"), false);
  assert.equal(recentEnough("garbage"), false);
});
