import * as assert from "node:assert/strict";
import { test } from "node:test";
import { findImages, imageOf, imageSource } from "../src/imageValues";

test("the server's image forms are images, other dicts are not", () => {
  assert.deepEqual(imageOf({ "data:image/png;path": "/f/.promptflow/output/a.png" }), { path: "/f/.promptflow/output/a.png" });
  assert.deepEqual(imageOf({ "data:image/*;url": "https://x.test/a" }), { url: "https://x.test/a" });
  assert.deepEqual(imageOf({ type: "image_file", image_file: { path: "/a.png" } }), { path: "/a.png" });
  assert.deepEqual(imageOf({ type: "image_url", image_url: { url: "https://x.test/a" } }), { url: "https://x.test/a" });
  assert.equal(imageOf({ "data:image/png;path": "/a.png", other: 1 }), undefined);
  assert.equal(imageOf({ "data:text/plain;path": "/a.txt" }), undefined);
  assert.equal(imageOf({ "data:image/png;base64": "iVBOR" }), undefined);
  assert.equal(imageOf(["/a.png"]), undefined);
  assert.equal(imageOf("data:image/png;path"), undefined);
});

test("images are found inside outputs, with where they are", () => {
  const outputs = { answer: "red", picture: { "data:image/png;path": "/o/a.png" },
    gallery: [{ "data:image/png;path": "/o/b.png" }, "text", { nested: { "data:image/jpeg;url": "https://x.test/c" } }] };
  assert.deepEqual(findImages(outputs), [
    { path: "/o/a.png", at: "picture" },
    { path: "/o/b.png", at: "gallery[0]" },
    { url: "https://x.test/c", at: "gallery[2].nested" },
  ]);
  assert.deepEqual(findImages({ "data:image/png;path": "/o/a.png" }), [{ path: "/o/a.png", at: "" }]);
  assert.deepEqual(findImages("plain"), []);
  assert.equal(findImages(Array.from({ length: 50 }, () => ({ "data:image/png;path": "/a.png" }))).length, 20);
});

test("file paths become webview addresses under the root", () => {
  const root = "https://file+.vscode-resource.vscode-cdn.net/";
  assert.equal(imageSource(root, "/home/me/flow/.promptflow/output/a b#1.png"),
    "https://file+.vscode-resource.vscode-cdn.net/home/me/flow/.promptflow/output/a%20b%231.png");
  assert.equal(imageSource(root, "C:\\flows\\x.png"), "https://file+.vscode-resource.vscode-cdn.net/C%3A/flows/x.png");
  assert.equal(imageSource(root, "images/a.png"), undefined);
});
