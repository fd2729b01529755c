import * as fs from 'node:fs';
import * as path from 'node:path';
import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

/** cdk-nag's validation report (validation-report.json in the cloud assembly). */
export interface NagReport {
  pluginReports: Array<{
    pluginName: string;
    conclusion?: string;
    violations: Array<{ ruleName: string; severity: string; violatingConstructs: Array<{ constructPath: string }> }>;
  }>;
}

/** One AwsSolutions finding: its rule, severity and construct path. */
export interface NagFinding { rule: string; severity: string; path: string }

/** The AwsSolutions findings of a report. */
export const nagFindings = (report: NagReport): NagFinding[] => report.pluginReports
  .filter((p) => p.pluginName === 'AwsSolutions')
  .flatMap((p) => p.violations.flatMap((v) => v.violatingConstructs.map((c) => ({ rule: v.ruleName, severity: v.severity, path: c.constructPath }))));

/**
 * Synthesizes `app` (made with `outdir`) with AwsSolutionsChecks and reads its validation report.
 * Under jest a failed validation throws from app.synth() (the report is its message); the error is
 * returned, and the report read from the cloud assembly either way.
 */
export function synthWithNag(app: App, outdir: string): { error?: Error; report: NagReport; findings: NagFinding[] } {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  let error: Error | undefined;
  try {
    app.synth();
  } catch (e) {
    error = e as Error;
  }
  const reportFile = path.join(outdir, 'validation-report.json');
  if (!fs.existsSync(reportFile)) throw new Error(`no validation report was written (synth error: ${error?.message})`);
  const report = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as NagReport;
  return { error, report, findings: nagFindings(report) };
}
