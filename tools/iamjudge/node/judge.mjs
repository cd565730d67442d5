// The IAM judge: one long-lived process that evaluates AWS requests against policies with
// @cloud-copilot/iam-simulate (AWS's evaluation logic: identity and resource policies, explicit
// Deny before Allow, every condition operator). It speaks JSON lines on stdin/stdout:
//
//   {"id": 1, "define": "redeploy@...", "policies": [{"name": "...", "policy": {...}}]}
//   {"id": 2, "role": "redeploy@...", "principal": "arn:aws:iam::123456789012:role/redeploy",
//    "account": "123456789012", "action": "ecs:UpdateService", "resource": "arn:...",
//    "context": {"aws:ResourceTag/Environment": "prod"}, "resourcePolicy": null}
//
// and answers each line with {"id", "decision", "statements", "errors"}: decision is Allowed,
// ExplicitlyDenied, ImplicitlyDenied or Error (the request or a policy is not valid IAM);
// statements names the deciding statements ("<policy>/<Sid>").
import { createInterface } from 'node:readline'
import { getDenialReasons, getGrantReasons, runSimulation } from '@cloud-copilot/iam-simulate'

const roles = new Map()

function statementName(reason) {
  const sid = reason.statementId ?? `#${reason.statementIndex ?? '?'}`
  return `${reason.policyIdentifier ?? reason.identifier ?? reason.policyType}/${sid}`
}

function deciding(overall, analysis) {
  if (!analysis) return []
  if (overall === 'Allowed') return getGrantReasons(analysis).map(statementName)
  return getDenialReasons(analysis)
    .filter((reason) => reason.denialType === 'Explicit')
    .map(statementName)
}

async function judge(request) {
  const policies = roles.get(request.role)
  if (!policies) return { decision: 'Error', errors: `role ${request.role} was never defined` }
  const simulation = {
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: request.account },
      contextVariables: request.context ?? {},
    },
    identityPolicies: policies,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: request.resourcePolicy ?? undefined,
  }
  const response = await runSimulation(simulation, {})
  if (response.resultType === 'error') {
    return { decision: 'Error', errors: response.errors }
  }
  const results = response.resultType === 'single' ? [response.result] : response.results
  const statements = results.flatMap((result) => deciding(response.overallResult, result.analysis))
  return { decision: response.overallResult, statements: [...new Set(statements)] }
}

async function answer(line) {
  const message = JSON.parse(line)
  if (message.define !== undefined) {
    roles.set(message.define, message.policies)
    return { id: message.id, decision: 'Defined' }
  }
  return { id: message.id, ...(await judge(message)) }
}

const input = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of input) {
  if (!line.trim()) continue
  let reply
  try {
    reply = await answer(line)
  } catch (error) {
    reply = { id: null, decision: 'Error', errors: String(error?.stack ?? error) }
  }
  process.stdout.write(JSON.stringify(reply) + '\n')
}
