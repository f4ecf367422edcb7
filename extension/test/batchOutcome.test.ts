import * as assert from "node:assert/strict";
import { test } from "node:test";
import { batchOutcome, completedProblem, failedProcessOutcome, failureReason, processFailure, readRunRecord,
  type RunRecordSummary } from "../src/batchOutcome";

const record = (status: string, completed: number, failed: number): RunRecordSummary =>
  ({ name: "hello_1", status, lines_total: completed + failed, lines_completed: completed, lines_failed: failed });

test("a completed run is information naming the run, its status and line counts", () => {
  assert.deepEqual(batchOutcome(record("Completed", 3, 0)),
    { failed: false, message: "Batch run hello_1: Completed, 3 of 3 lines completed." });
  assert.deepEqual(batchOutcome(record("Completed", 2, 1)),
    { failed: false, message: "Batch run hello_1: Completed, 2 of 3 lines completed, 1 failed." });
});

// promptflow 1.18.5 marks a run Completed (`pf run show`: "status": "Completed", exit 0) when every line
// failed and when its aggregation failed; the message still says what went wrong, as an error.
test("a Completed run whose aggregation or every line failed is an error saying so", () => {
  const logs = "aggregation failed: RuntimeError: aggregation broke\n";
  const aggregation = completedProblem(record("Completed", 2, 0), undefined, logs);
  assert.equal(aggregation, "the aggregation failed with RuntimeError: aggregation broke");
  assert.deepEqual(batchOutcome(record("Completed", 2, 0), aggregation), { failed: true, message: "Batch run "
    + "hello_1: Completed, 2 of 2 lines completed; the aggregation failed with RuntimeError: aggregation broke." });
  const none = completedProblem(record("Completed", 0, 2),
    { line_number: 0, status: "Failed", error: { type: "ValueError", message: "bad line" } }, "");
  assert.deepEqual(batchOutcome(record("Completed", 0, 2), none), { failed: true, message: "Batch run hello_1: "
    + "Completed, 0 of 2 lines completed, 2 failed; no line completed; line 0 failed with ValueError: bad line." });
  assert.equal(completedProblem(record("Completed", 2, 1), undefined, ""), undefined);
  assert.equal(completedProblem(record("Completed", 0, 0), undefined, ""), undefined);
});

test("a failed run is an error with its reason: the first line's error when no line completed", () => {
  const failed = record("Failed", 0, 3);
  const reason = failureReason(failed, { line_number: 0, status: "Failed",
    error: { type: "ValueError", message: "no amount in 'x'" } }, "");
  assert.deepEqual(batchOutcome(failed, reason), { failed: true, message: "Batch run hello_1 Failed (0 of 3 lines "
    + "completed, 3 failed): line 0 failed with ValueError: no amount in 'x'." });
});

test("a failed run whose lines completed failed in its aggregation (from logs.txt)", () => {
  const logs = "a tool's print\naggregation failed: ZeroDivisionError: division by zero\n";
  assert.equal(failureReason(record("Failed", 3, 0), undefined, logs),
    "the aggregation failed with ZeroDivisionError: division by zero");
  assert.equal(failureReason(record("Failed", 3, 0), undefined, ""), "see the run's report for each line's error");
  assert.equal(failureReason(record("Failed", 0, 0), undefined, ""), "the data has no lines");
});

test("a run the store found stopped gives the store's reason", () => {
  const reason = "the process running it stopped (killed, or the machine restarted) after 1 of 3 lines; resume with "
    + "`flowline run create --resume-from hello_1`";
  assert.equal(failureReason({ ...record("Failed", 1, 0), lines_total: 3, reason }, undefined, ""), reason);
});

test("`run create` killed by a signal says so, with its last message, and the run is Failed, not Running", () => {
  const failure = processFailure({ code: null, signal: "SIGKILL", lastLine: "[###---] 1/2 lines, 0 failed" }, false);
  assert.equal(failure, "`flowline run create` was killed by SIGKILL (its last message: [###---] 1/2 lines, 0 failed)");
  const running = { ...record("Running", 0, 0), lines_total: 2 };
  assert.deepEqual(failedProcessOutcome("hello_1", failure ?? "", running), { failed: true, message: "Batch run "
    + "hello_1 Failed (0 of 2 lines completed): `flowline run create` was killed by SIGKILL (its last message: "
    + "[###---] 1/2 lines, 0 failed); resume it with `flowline run create --resume-from hello_1`." });
});

test("an exit code that is none of the CLI's own answers says so; the run may never have been stored", () => {
  const failure = processFailure({ code: 3, signal: null, lastLine: "" }, false);
  assert.equal(failure, "`flowline run create` exited with code 3");
  assert.deepEqual(failedProcessOutcome("hello_1", failure ?? "", undefined),
    { failed: true, message: "Batch run hello_1 did not start: `flowline run create` exited with code 3." });
});

test("the CLI's own answers (0 with a record, 1 and 2) leave the message to the record or the CLI's last line", () => {
  assert.equal(processFailure(undefined, true), undefined);
  assert.equal(processFailure({ code: 1, signal: null, lastLine: "run 'x': Failed" }, false), undefined);
  assert.equal(processFailure({ code: 2, signal: null, lastLine: "flowline: error: bad" }, false), undefined);
});

test("exit 0 without a record says what happened rather than 'Unexpected end of JSON input'", () => {
  assert.equal(readRunRecord(""), undefined);
  assert.equal(readRunRecord("{\"name\": \"cut"), undefined);
  assert.equal(readRunRecord("[]"), undefined);
  assert.equal(readRunRecord("null"), undefined);
  assert.deepEqual(readRunRecord(JSON.stringify(record("Completed", 1, 0))), record("Completed", 1, 0));
  const failure = processFailure(undefined, false);
  assert.equal(failure, "`flowline run create` ended (exit code 0) without printing the run's record");
  assert.deepEqual(failedProcessOutcome("hello_1", failure ?? "", record("Completed", 2, 0)),
    { failed: false, message: "Batch run hello_1: Completed, 2 of 2 lines completed." });
});
