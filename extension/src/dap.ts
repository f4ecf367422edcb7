/**
 * Debug Adapter Protocol framing (`Content-Length` headers around JSON), and the one change Flowline
 * makes to what debugpy's adapter answers. Pure, so unit tests run it without VS Code.
 */

/** One DAP message as it travels: headers, blank line, JSON body. */
export function frame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message), "utf-8");
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, "ascii"), body]);
}

/** Cuts a byte stream into DAP messages; chunks may split headers and bodies anywhere. */
export class FrameReader {
  private buffer = Buffer.alloc(0);

  /** The messages completed by `chunk`, in order. */
  push(chunk: Buffer): unknown[] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const messages: unknown[] = [];
    for (;;) {
      const end = this.buffer.indexOf("\r\n\r\n");
      if (end < 0) {
        return messages;
      }
      const match = /Content-Length:\s*(\d+)/i.exec(this.buffer.subarray(0, end).toString("ascii"));
      if (!match) {
        this.buffer = this.buffer.subarray(end + 4);  // a header block without a length carries nothing
        continue;
      }
      const start = end + 4;
      const length = Number(match[1]);
      if (this.buffer.length < start + length) {
        return messages;
      }
      messages.push(JSON.parse(this.buffer.subarray(start, start + length).toString("utf-8")));
      this.buffer = this.buffer.subarray(start + length);
    }
  }
}

interface ExceptionFilter {
  filter: string;
  default?: boolean;
  [other: string]: unknown;
}

/**
 * debugpy's `initialize` answer with "User Uncaught Exceptions" on by default: the engine catches
 * what a tool raises (to fail the node), so debugpy's "Uncaught Exceptions" would never stop there.
 * Other messages are returned as they are.
 */
export function withFlowlineDefaults<T>(message: T): T {
  const response = message as { type?: string; command?: string; body?: { exceptionBreakpointFilters?: unknown } };
  const filters = response.body?.exceptionBreakpointFilters;
  if (response.type !== "response" || response.command !== "initialize" || !Array.isArray(filters)) {
    return message;
  }
  const changed = (filters as ExceptionFilter[]).map((f) => f.filter === "userUnhandled" ? { ...f, default: true } : f);
  return { ...message, body: { ...response.body, exceptionBreakpointFilters: changed } };
}
