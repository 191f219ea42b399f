// evaluate.mjs: IAM policies evaluated with their conditions, by
// @cloud-copilot/iam-simulate (an evaluator we did not write), one verdict
// per case.
//
//   node evaluate.mjs --dir DIR --account ID --policy NAME=FILE... <cases
//
// DIR holds node_modules/@cloud-copilot/iam-simulate (tests/install-deps.sh
// puts it in /var/cache/slurm-identity/iam-simulate). Each case is one line
// of tab-separated fields:
//
//   EXPECT POLICIES PRINCIPAL ACTION RESOURCE CONTEXT DESCRIPTION
//
// EXPECT is Allowed, ExplicitlyDenied, ImplicitlyDenied or Denied (either
// denial), with a "!" after it when the resource has no ARN format the
// simulator knows (the parameter path "/": "parameter/"), which it then
// evaluates without validating the request; POLICIES a comma list of --policy names attached to the caller;
// CONTEXT a JSON object of the request's context keys. kms: calls get the
// key's default key policy (the account root may use the key as IAM
// allows), without which AWS denies every kms call. Prints, per case,
// "PASS|FAIL<tab>verdict<tab>description<tab>why" and, with --wildcards
// NAME,..., one line per statement of those policies whose Resource is "*"
// though one of its actions can be scoped ("WILD<tab>name:sid<tab>actions").
// Exits 1 if a case failed, 2 on a usage error.
import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function usage(why) {
	process.stderr.write(`evaluate.mjs: ${why}\n`);
	process.exit(2);
}

const args = process.argv.slice(2);
const policies = {};
let dir = null, account = null, wildcards = [];
for (let i = 0; i < args.length; i++) {
	if (args[i] === '--dir' && i + 1 < args.length)
		dir = args[++i];
	else if (args[i] === '--account' && i + 1 < args.length)
		account = args[++i];
	else if (args[i] === '--wildcards' && i + 1 < args.length)
		wildcards = args[++i].split(',');
	else if (args[i] === '--policy' && i + 1 < args.length) {
		const [name, file] = args[++i].split('=', 2);
		try {
			policies[name] = JSON.parse(readFileSync(file, 'utf8'));
		} catch (e) {
			usage(`${file}: not a JSON policy: ${e.message}`);
		}
	} else
		usage(`unknown argument ${args[i]}`);
}
if (!dir || !account)
	usage('--dir and --account are required');

const entry = join(dir, 'node_modules/@cloud-copilot/iam-simulate/dist/esm/index.js');
let sim;
try {
	sim = await import(pathToFileURL(entry).href);
} catch (e) {
	usage(`cannot load the simulator from ${entry}: ${e.message}`);
}

const keyPolicy = {
	Version: '2012-10-17',
	Statement: [{
		Sid: 'Enable IAM User Permissions', Effect: 'Allow',
		Principal: { AWS: `arn:aws:iam::${account}:root` },
		Action: 'kms:*', Resource: '*',
	}],
};

// The Sids of the statements that decided, or why nothing did.
function why(result) {
	const a = result?.analysis;
	const sids = (list) => (list || []).map((s) =>
		`${s.policyId ?? 'key policy'}#${s.explain?.identifier}`);
	const deny = [...sids(a?.identityAnalysis?.denyStatements),
		      ...sids(a?.resourceAnalysis?.denyStatements)];
	const allow = [...sids(a?.identityAnalysis?.allowStatements),
		       ...sids(a?.resourceAnalysis?.allowStatements)];
	if (deny.length)
		return `denied by ${deny.join(',')}`;
	if (allow.length)
		return `allowed by ${allow.join(',')}`;
	return 'no statement matched';
}

function matches(expect, got) {
	if (expect === 'Denied')
		return got === 'ExplicitlyDenied' || got === 'ImplicitlyDenied';
	return expect === got;
}

let failed = 0;
const lines = readFileSync(0, 'utf8').split('\n').filter((l) => l && l[0] !== '#');
for (const line of lines) {
	const f = line.split('\t');
	if (f.length !== 7) {
		console.log(`FAIL\tbad-case\t${line}\t${f.length} fields, not 7`);
		failed++;
		continue;
	}
	const [marked, names, principal, action, resource, context, desc] = f;
	const unvalidated = marked.endsWith('!');
	const expect = unvalidated ? marked.slice(0, -1) : marked;
	let verdict, reason;
	try {
		const attached = names.split(',').map((n) => {
			if (!policies[n])
				throw new Error(`no policy named ${n}`);
			return { name: n, policy: policies[n] };
		});
		const simulation = {
			request: {
				principal, action,
				resource: { resource, accountId: account },
				contextVariables: JSON.parse(context),
			},
			identityPolicies: attached,
			serviceControlPolicies: [],
			resourceControlPolicies: [],
			resourcePolicy: action.startsWith('kms:') ? keyPolicy : undefined,
		};
		const out = unvalidated ? null : await sim.runSimulation(simulation, {});
		if (unvalidated) {
			verdict = sim.runUnsafeSimulation(simulation, {});
			reason = 'unvalidated: no ARN format for this resource';
		} else if (out.resultType === 'error') {
			verdict = 'Error';
			reason = JSON.stringify(out.errors);
		} else {
			verdict = out.overallResult;
			reason = out.resultType === 'single' ? why(out.result) : out.resultType;
			const ignored = out.result?.ignoredContextKeys || [];
			if (ignored.length)
				reason += `; ignored context keys ${ignored.join(',')}`;
		}
	} catch (e) {
		verdict = 'Error';
		reason = e.message;
	}
	const pass = matches(expect, verdict);
	if (!pass)
		failed++;
	console.log(`${pass ? 'PASS' : 'FAIL'}\t${verdict}\t${desc}\t${reason}`);
}

for (const name of wildcards) {
	const doc = policies[name];
	if (doc) {
		for (const st of doc.Statement || []) {
			const res = [].concat(st.Resource || []);
			if (st.Effect !== 'Allow' || !res.includes('*'))
				continue;
			const scopable = [];
			for (const act of [].concat(st.Action || [])) {
				const [service, a] = act.split(':');
				if (!(await sim.isWildcardOnlyAction(service, a)))
					scopable.push(act);
			}
			if (scopable.length)
				console.log(`WILD\t${name}:${st.Sid || '?'}\t${scopable.join(',')}`);
		}
	}
}
process.exit(failed ? 1 : 0);
