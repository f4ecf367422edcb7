/**
 * How a batch run started from VS Code ended, in one sentence (pure; unit-tested): its name, status
 * and line counts, and for a failed run the reason, from the run store's record of it.
 */

/** The fields of `flowline run show`'s record that the message uses. */
export interface RunRecordSummary {
  name: string;
  status: string;
  lines_total: number;
  lines_completed: number;
  lines_failed: number;
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
 * Why a run failed: the first failed line's error when no line completed, else the aggregation's
 * error from `logs` (the run folder's logs.txt text); a pointer to the report when neither says.
 */
export function failureReason(record: RunRecordSummary, firstFailed: LineDetail | undefined, logs: string): string {
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
 * "Batch run NAME: Completed, 3 of 3 lines completed." (information), or for a run that is not
 * Completed "Batch run NAME Failed (0 of 3 lines completed, 3 failed): REASON." (error); `reason`
 * (from {@link failureReason}) is only needed for such a run.
 */
export function batchOutcome(record: RunRecordSummary, reason = "see the run's report"): Outcome {
  const counts = `${record.lines_completed} of ${record.lines_total} lines completed`
    + (record.lines_failed ? `, ${record.lines_failed} failed` : "");
  if (record.status === "Completed") {
    return { failed: false, message: `Batch run ${record.name}: Completed, ${counts}.` };
  }
  return { failed: true, message: `Batch run ${record.name} ${record.status} (${counts}): ${reason}.` };
}
