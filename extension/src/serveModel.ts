/**
 * The pure parts of "Flowline: Serve Flow": the command line of `flowline flow serve`, its ready
 * line, and the text a pseudo-terminal shows. No VS Code import: unit-tested in plain Node.
 */

/** The host an endpoint started from VS Code binds: this machine only, as the CLI's default. */
export const SERVE_HOST = "127.0.0.1";

/**
 * What `flowline flow serve` prints on stderr once it accepts requests:
 * `Serving flow '<name>' at http://<host>:<port> (try it: http://<host>:<port>/)`.
 */
const READY = /Serving flow '(.*)' at (https?:\/\/[^\s()]+)(?: \(try it: (https?:\/\/[^\s()]+)\))?/;

/** The endpoint a ready line announces: the flow's name, its base URL and its test page. */
export interface Ready {
  flow: string;
  url: string;
  page: string;
}

/** The endpoint announced by one line of the server's output; undefined for any other line. */
export function parseReadyLine(line: string): Ready | undefined {
  const found = READY.exec(line);
  if (!found) {
    return undefined;
  }
  const url = found[2].replace(/\/+$/, "");
  return { flow: found[1], url, page: found[3] ?? `${url}/` };
}

/** Splits a process's output into whole lines across chunks (a chunk may end inside a line). */
export class LineReader {
  private rest = "";

  /** The lines completed by `chunk` (without their line ends). */
  push(chunk: string): string[] {
    const lines = (this.rest + chunk).split(/\r?\n/);
    this.rest = lines.pop() ?? "";
    return lines;
  }

  /** What is left after the last line end (the process ended in the middle of a line). */
  flush(): string {
    const rest = this.rest;
    this.rest = "";
    return rest;
  }
}

/** What starts the endpoint of a flow folder: `python <args>` with the extension's interpreter. */
export interface ServeOptions {
  folder: string;
  port: number;
  host?: string;
}

/** The arguments of `python -m flowline flow serve` for `options`. */
export function serveArgs(options: ServeOptions): string[] {
  return ["-m", "flowline", "flow", "serve", "--source", options.folder, "--host", options.host ?? SERVE_HOST,
    "--port", String(options.port)];
}

/** The command line as a person would type it (shown in the terminal before the server's own output). */
export function commandLine(python: string, args: string[]): string {
  const quote = (word: string): string => /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
  return [python, ...args].map(quote).join(" ");
}

/** The terminal of a flow's endpoint, named after the flow's folder ("Flowline: serve hello"). */
export function terminalName(folder: string): string {
  const name = folder.replace(/[\\/]+$/, "").split(/[\\/]/).pop() || folder;
  return `Flowline: serve ${name}`;
}

/** Text for a pseudo-terminal: it moves to the line start only on "\r", so every line end becomes "\r\n". */
export function forTerminal(text: string): string {
  return text.replace(/\r?\n/g, "\r\n");
}

/** The last non-empty line of what a process printed (why it stopped, for a message). */
export function lastLine(text: string): string {
  return text.split(/\r?\n/).map((line) => line.trim()).filter(Boolean).pop() ?? "";
}
