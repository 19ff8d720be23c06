/**
 * computePipeline for the pipeline tests, with every flow held to its table's contract and to its
 * builder's declaration (netplugin/pipeline/contract.ts): a scenario that makes a feature write
 * outside its contract fails, whatever the scenario itself asserts.
 */
import { computePipeline, FLOW_BUILDERS } from '../../../netplugin/pipeline/compute';
import { checkBuilderFlows, checkFlowsAgainstTables, ContractViolation } from '../../../netplugin/pipeline/contract';
import type { PipelineInput } from '../../../netplugin/pipeline/input';
import type { DesiredFlow } from '../../../netplugin/reconcile/flow-key';

export function describeViolation(v: ContractViolation): string {
  return `${v.table}: ${v.flow}: ${v.rule}: ${v.detail}`;
}

export function checkedPipeline(input: PipelineInput): DesiredFlow[] {
  const flows = computePipeline(input);
  const violations = [...checkFlowsAgainstTables(flows), ...FLOW_BUILDERS.flatMap((b) => checkBuilderFlows(b, b.compute(input)))];
  if (violations.length > 0) throw new Error(`pipeline contract broken:\n${violations.map(describeViolation).join('\n')}`);
  return flows;
}
