import * as assert from "node:assert/strict";
import { test } from "node:test";
import { batchOutcome, failureReason, type RunRecordSummary } from "../src/batchOutcome";

const record = (status: string, completed: number, failed: number): RunRecordSummary =>
  ({ name: "hello_1", status, lines_total: completed + failed, lines_completed: completed, lines_failed: failed });

test("a completed run is information naming the run, its status and line counts", () => {
  assert.deepEqual(batchOutcome(record("Completed", 3, 0)),
    { failed: false, message: "Batch run hello_1: Completed, 3 of 3 lines completed." });
  assert.deepEqual(batchOutcome(record("Completed", 2, 1)),
    { failed: false, message: "Batch run hello_1: Completed, 2 of 3 lines completed, 1 failed." });
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
