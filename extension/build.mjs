// Bundles the extension (Node, CommonJS, `vscode` external) and the run panel's page (browser)
// with esbuild into dist/; `--watch` rebuilds on change.
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";

const watch = process.argv.includes("--watch");
const common = { bundle: true, sourcemap: true, minify: !watch, logLevel: "info" };
const builds = [
  { ...common, entryPoints: ["extension/src/extension.ts"], outfile: "dist/extension.js", platform: "node",
    format: "cjs", target: "node20", external: ["vscode"] },
  { ...common, entryPoints: ["extension/webview/runPanel.ts"], outfile: "dist/webview/runPanel.js",
    platform: "browser", format: "iife", target: "es2022" },
];
mkdirSync("dist/webview", { recursive: true });
copyFileSync("extension/webview/runPanel.css", "dist/webview/runPanel.css");
if (watch) {
  for (const options of builds) {
    await (await esbuild.context(options)).watch();
  }
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
