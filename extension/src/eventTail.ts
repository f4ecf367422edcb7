/**
 * Reads the events a debug run appends to its JSONL file as they come: each `poll` hands over the
 * complete lines written since the last one (a line still being written waits for the next poll).
 */

import * as fs from "fs";
import type { FlowEvent } from "./protocol";

export class EventTail {
  private offset = 0;
  private partial = Buffer.alloc(0);

  constructor(private readonly file: string, private readonly onEvent: (event: FlowEvent) => void) {}

  /** Reads what is new; a file not written yet is not an error. */
  poll(): void {
    let fd: number;
    try {
      fd = fs.openSync(this.file, "r");
    } catch {
      return;
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= this.offset) {
        return;
      }
      const chunk = Buffer.alloc(size - this.offset);
      const read = fs.readSync(fd, chunk, 0, chunk.length, this.offset);
      this.offset += read;
      this.take(chunk.subarray(0, read));
    } finally {
      fs.closeSync(fd);
    }
  }

  private take(bytes: Buffer): void {
    // Cut at the last newline byte, so a character split between two reads is decoded whole.
    const all = Buffer.concat([this.partial, bytes]);
    const end = all.lastIndexOf(0x0a);
    this.partial = all.subarray(end + 1);
    for (const line of all.subarray(0, end + 1).toString("utf-8").split("\n")) {
      let event: FlowEvent | undefined;
      try {
        event = line.trim() ? JSON.parse(line) as FlowEvent : undefined;
      } catch {
        continue;  // not an event (the file holds only Flowline's JSON lines; skip anything else)
      }
      if (event) {
        this.onEvent(event);
      }
    }
  }
}
