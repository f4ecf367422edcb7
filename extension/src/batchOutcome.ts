/**
 * How a batch run started from VS Code ended, in one sentence (pure; unit-tested): its name, status
 * and line counts, and for a failed run the reason, from the run store's record of it and from how
 * the `flowline run create` process ended.
 */

import type { ProcessEnd } from "./python";

/** The fields of `flowline run show`'s record that the message uses. */
export interface RunRecordSummary {
  name: string;
  status: string;
  lines_total: number;
  lines_completed: number;
  lines_failed: number;
  /** Why the run ended as it did when its lines do not say (the process running it stopped). */
  reason?: string | null;
}

/** One row of `flowline run show-details --json`. */
export interface LineDetail {
  line_number: number;
  status: string | null;
  error: { type?: string; message?: string } | null;
}

/** The message to show, and whether it is an error. */
export interface Outcome {
  failed: boolean;
  message: string;
}

/** The last `aggregation failed: ...` entry of a run's logs.txt (where the run store records it). */
function aggregationError(logs: string): string | undefined {
  const line = logs.split("\n").reverse().find((l) => l.startsWith("aggregation failed: "));
  return line?.slice("aggregation failed: ".length);
}

/**
 * Why a run failed: the record's own reason when it has one, else the first failed line's error when
 * no line completed, else the aggregation's error from `logs` (the run folder's logs.txt text); a
 * pointer to the report when none says.
 */
export function failureReason(record: RunRecordSummary, firstFailed: LineDetail | undefined, logs: string): string {
  if (record.reason) {
    return record.reason;
  }
  if (record.lines_completed === 0 && firstFailed?.error) {
    const { type, message } = firstFailed.error;
    return `line ${firstFailed.line_number} failed with ${type ? `${type}: ` : ""}${message ?? "no message"}`;
  }
  if (record.lines_total === 0) {
    return "the data has no lines";
  }
  const aggregation = aggregationError(logs);
  return aggregation ? `the aggregation failed with ${aggregation}` : "see the run's report for each line's error";
}

/**
 * What went wrong in a Completed run, or undefined: a run that ran to its end is Completed even when
 * its aggregation or every line failed (as promptflow 1.18.5 marks it), so the message says so. The
 * aggregation's error (logs.txt, else the record's reason), else the first failed line's error when no
 * line completed.
 */
export function completedProblem(record: RunRecordSummary, firstFailed: LineDetail | undefined, logs: string)
  : string | undefined {
  const aggregation = aggregationError(logs);
  if (aggregation) {
    return `the aggregation failed with ${aggregation}`;
  }
  if (record.reason) {
    return record.reason;
  }
  if (record.lines_total > 0 && record.lines_completed === 0) {
    const { type, message } = firstFailed?.error ?? {};
    return firstFailed ? `no line completed; line ${firstFailed.line_number} failed with `
      + `${type ? `${type}: ` : ""}${message ?? "no message"}` : "no line completed";
  }
  return undefined;
}

/**
 * "Batch run NAME: Completed, 3 of 3 lines completed." (information); for a Completed run with a
 * problem (from {@link completedProblem}) "Batch run NAME: Completed, 0 of 3 lines completed, 3 failed;
 * PROBLEM." (error); for a run that is not Completed "Batch run NAME Failed (0 of 3 lines completed,
 * 3 failed): REASON." (error), `reason` from {@link failureReason}.
 */
export function batchOutcome(record: RunRecordSummary, reason?: string): Outcome {
  const counts = `${record.lines_completed} of ${record.lines_total} lines completed`
    + (record.lines_failed ? `, ${record.lines_failed} failed` : "");
  if (record.status === "Completed") {
    return reason ? { failed: true, message: `Batch run ${record.name}: Completed, ${counts}; ${reason}.` }
      : { failed: false, message: `Batch run ${record.name}: Completed, ${counts}.` };
  }
  reason ??= "see the run's report";
  return { failed: true, message: `Batch run ${record.name} ${record.status} (${counts}): ${reason}.` };
}

/** The record `run create` (or `run show`) printed, or undefined when stdout holds none (empty, cut short, not a record). */
export function readRunRecord(stdout: string): RunRecordSummary | undefined {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  const fields = value as Partial<Record<keyof RunRecordSummary, unknown>> | null;
  return typeof fields?.name === "string" && typeof fields.status === "string" ? value as RunRecordSummary : undefined;
}

/**
 * What went wrong with the `flowline run create` process itself, or undefined when it gave one of the
 * CLI's own answers, which its record or its last line explain: 0 (the run ended, its record printed),
 * 1 (the run failed, or its tools could not load) and 2 (refused before starting). Anything else was a
 * signal (killed), or an exit code from something other than Flowline (a tool, the interpreter). With
 * `end` undefined (the process ended with 0), `printed` says whether it printed a record.
 */
export function processFailure(end: ProcessEnd | undefined, printed: boolean): string | undefined {
  if (!end) {
    return printed ? undefined : "`flowline run create` ended (exit code 0) without printing the run's record";
  }
  const how = end.signal ? `was killed by ${end.signal}`
    : end.code !== null && end.code > 2 ? `exited with code ${end.code}` : undefined;
  return how && `\`flowline run create\` ${how}${end.lastLine ? ` (its last message: ${end.lastLine})` : ""}`;
}

/**
 * The message for a batch whose `run create` process failed (`failure`, from {@link processFailure}):
 * with the run's stored record when there is one (a run its process did not finish is Failed, even
 * when the store could not tell it stopped), else `failure` alone (the run was never stored).
 */
export function failedProcessOutcome(name: string, failure: string, record: RunRecordSummary | undefined): Outcome {
  if (!record) {
    return { failed: true, message: `Batch run ${name} did not start: ${failure}.` };
  }
  const status = record.status === "Running" ? "Failed" : record.status;
  if (status === "Completed") {  // the run itself ended; the process's trouble came after
    return batchOutcome(record);
  }
  return batchOutcome({ ...record, status },
    `${failure}; resume it with \`flowline run create --resume-from ${record.name}\``);
}
