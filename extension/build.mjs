// Bundles the extension (Node, CommonJS, `vscode` external) and the webview pages (browser: the run
// panel, the visual editor, the chat panel) with esbuild into dist/; `--watch` rebuilds on change.
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";

const watch = process.argv.includes("--watch");
const common = { bundle: true, sourcemap: true, minify: !watch, logLevel: "info" };
const builds = [
  { ...common, entryPoints: ["extension/src/extension.ts"], outfile: "dist/extension.js", platform: "node",
    format: "cjs", target: "node20", external: ["vscode"] },
  ...["runPanel", "flowEditor", "chat"].map((page) => ({ ...common, entryPoints: [`extension/webview/${page}.ts`],
    outfile: `dist/webview/${page}.js`, platform: "browser", format: "iife", target: "es2022" })),
];
mkdirSync("dist/webview", { recursive: true });
for (const page of ["base", "runPanel", "flowEditor", "chat"]) {
  copyFileSync(`extension/webview/${page}.css`, `dist/webview/${page}.css`);
}
if (watch) {
  for (const options of builds) {
    await (await esbuild.context(options)).watch();
  }
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
